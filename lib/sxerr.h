/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SXERR_H
#define SXERR_H

#include <sysexits.h>

/*
 * How the library reports failure: functions return -1 and fill a
 * struct sxerr with the sysexits(3) code the program should exit with and
 * a message "what: why" (no program name, no newline). Only cmd/ prints.
 */
struct sxerr {
	int	ex;
	char	msg[1024];
};

int	sxerr_set(struct sxerr *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	sxerr_errno(struct sxerr *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
