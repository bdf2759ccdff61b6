/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

/*
 * What may be shown or passed on as is: printable ASCII. Anything else
 * (control characters, DEL, bytes above 0x7e) is refused, never escaped.
 */
int	text_printable(const char *);	/* 0x20-0x7e, space included */
int	text_word(const char *);	/* 0x21-0x7e: no blank either */
void	text_vis(const char *, char *, size_t);

#endif
