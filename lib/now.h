/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef NOW_H
#define NOW_H

/* Milliseconds of CLOCK_MONOTONIC: for deadlines, never for dates. */
long long	now_ms(void);

#endif
