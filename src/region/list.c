/* SPDX-License-Identifier: MIT */
/* list.c - every POSIX object in /dev/shm and every System V segment. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int list_posix(int (*fn)(const struct shmkit_entry *, void *), void *arg)
{
	DIR *d = opendir(SHMKIT_SHM_DIR);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : shmkit__err();
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct shmkit_entry e;
		struct stat st;
		if (!strncmp(de->d_name, ".shmkit-tmp.", 12))
			continue;  /* a creation in progress, not yet published */
		if (shmkit_name_check(de->d_name) != SHMKIT_BACKEND_POSIX)
			continue;  /* . and .., or a name shmkit cannot address */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		memset(&e, 0, sizeof(e));
		memcpy(e.name, de->d_name, strlen(de->d_name) + 1);  /* <= 200, checked */
		e.backend = SHMKIT_BACKEND_POSIX;
		e.shmid = -1;
		e.size = (uint64_t)st.st_size;
		ret = fn(&e, arg);
	}
	closedir(d);
	return ret;
}

static int list_sysv(int (*fn)(const struct shmkit_entry *, void *), void *arg)
{
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];
	int ret = 0;

	if (!f)
		return errno == ENOENT ? 0 : shmkit__err();
	if (!fgets(line, sizeof(line), f)) {  /* the column titles */
		fclose(f);
		return 0;
	}
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		long long key, id, perms;
		unsigned long long size;
		struct shmkit_entry e;
		if (sscanf(line, "%lld %lld %llo %llu", &key, &id, &perms, &size) != 4)
			continue;
		memset(&e, 0, sizeof(e));
		if (key != 0)
			snprintf(e.name, sizeof(e.name), "sysv:0x%08x", (unsigned)(int)key);
		e.backend = SHMKIT_BACKEND_SYSV;
		e.shmid = (int32_t)id;
		e.size = size;
		ret = fn(&e, arg);
	}
	fclose(f);
	return ret;
}

int shmkit_list(int (*fn)(const struct shmkit_entry *e, void *arg), void *arg)
{
	if (!fn)
		return -EINVAL;
	int ret = list_posix(fn, arg);
	return ret ? ret : list_sysv(fn, arg);
}
