/* SPDX-License-Identifier: MIT */
/* error.c - messages for shmkit's error codes, and the version. */
#include <string.h>

#include "internal.h"

const char *shmkit_version(void)
{
	return SHMKIT_VERSION_STRING;
}

const char *shmkit_strerror(int err)
{
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EPROTO:
		return "not a shmkit segment";
	case EPROTONOSUPPORT:
		return "unsupported shmkit layout version or kind";
	case EBADMSG:
		return "corrupt shmkit segment";
	case EIDRM:
		return "segment marked for destruction";
	case EUSERS:
		return "every peer slot of the segment is taken";
	case ENOSPC:
		return "No space left on device (shared memory full or limit reached)";
	default:
		/* strerror() is thread-safe in glibc for known codes (static strings). */
		return strerror(err);
	}
}
