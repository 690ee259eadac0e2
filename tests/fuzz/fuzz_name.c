/* SPDX-License-Identifier: MIT */
/*
 * fuzz_name.c - the name parser: any bytes, as a name, are accepted (its
 * backend) or refused with -EINVAL/-ENAMETOOLONG, never a crash and never a system
 * call (sysv:PATH:PROJ, which must stat PATH, is left to its own tests:
 * the fuzzer would make it stat arbitrary paths).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "shmkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	/* sysv:PATH:PROJ stats PATH: only names without a second ':' after
	 * "sysv:" are checked here */
	const char *colon = strncmp(name, "sysv:", 5) ? NULL : strchr(name + 5, ':');
	if (!colon) {
		/* the backend of a good name, or why it is bad */
		int rc = shmkit_name_check(name);
		if (rc < 0 && rc != -EINVAL && rc != -ENAMETOOLONG)
			abort();
		if (rc >= 0 && strlen(name) > SHMKIT_NAME_MAX)
			abort();
	}
	free(name);
	return 0;
}
