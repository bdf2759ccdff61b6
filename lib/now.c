/* SPDX-License-Identifier: AGPL-3.0-only */
#include <time.h>

#include "now.h"

long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
