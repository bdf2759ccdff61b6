/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdio.h>

#include "text.h"

int
text_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int
text_word(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/*
 * A refused value, to be shown safely in a message: printable ASCII
 * kept, the rest as \xNN, cut short with "..." to fit outsz.
 */
void
text_vis(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in != '\0' && o + 5 < outsz; in++) {
		unsigned char c = *in;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = c;
		else
			o += snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	if (*in != '\0' && o + 4 < outsz)
		o += snprintf(out + o, outsz - o, "...");
	out[o] = '\0';
}
