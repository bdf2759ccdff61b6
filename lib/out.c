/* SPDX-License-Identifier: AGPL-3.0-only */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "out.h"

struct out_table {
	size_t	  ncol, nrow;	/* nrow counts the header, row 0 */
	char	**cell;
	size_t	 *width;
};

struct out_table *
out_table_new(size_t ncol, const char *const *heads)
{
	struct out_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->width = calloc(ncol, sizeof(*t->width))) == NULL) {
		free(t);
		return NULL;
	}
	t->ncol = ncol;
	if (out_table_add(t, heads) == -1) {
		out_table_free(t);
		return NULL;
	}
	return t;
}

/* Append a row (cells copied; NULL shows as "-"). */
int
out_table_add(struct out_table *t, const char *const *cells)
{
	size_t i, n;
	char **c;

	if ((c = reallocarray(t->cell, (t->nrow + 1) * t->ncol,
	    sizeof(*c))) == NULL)
		return -1;
	t->cell = c;
	c += t->nrow * t->ncol;
	for (i = 0; i < t->ncol; i++) {
		const char *s = cells[i] == NULL ? "-" : cells[i];
		if ((c[i] = strdup(s)) == NULL) {
			while (i-- > 0)
				free(c[i]);
			return -1;
		}
		if ((n = strlen(s)) > t->width[i])
			t->width[i] = n;
	}
	t->nrow++;
	return 0;
}

/*
 * Aligned columns (a terminal) or tab-separated (a pipe); the header is
 * printed when asked.
 */
void
out_table_print(const struct out_table *t, FILE *fp, int aligned, int header)
{
	size_t r, i;

	for (r = header ? 0 : 1; r < t->nrow; r++) {
		for (i = 0; i < t->ncol; i++) {
			const char *s = t->cell[r * t->ncol + i];
			if (i + 1 == t->ncol)
				fprintf(fp, "%s\n", s);
			else if (aligned)
				fprintf(fp, "%-*s  ", (int)t->width[i], s);
			else
				fprintf(fp, "%s\t", s);
		}
	}
}

void
out_table_free(struct out_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->width);
	free(t);
}

/* A JSON string literal for s (null for NULL); control characters escaped. */
void
out_json_str(FILE *fp, const char *s)
{
	const char *run;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	/* Plain runs in one write: a listing of a thousand rows is some
	 * hundred thousand characters. */
	for (run = s;; s++) {
		unsigned char c = *s;
		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			continue;
		fwrite(run, 1, (size_t)(s - run), fp);
		if (c == '\0')
			break;
		run = s + 1;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else
			fprintf(fp, "\\u%04x", c);
	}
	putc('"', fp);
}

/* Flush and check: a full disk or a closed pipe is an error, not silence. */
int
out_close(FILE *fp)
{
	int bad = fflush(fp) == EOF || ferror(fp);

	if (fclose(fp) == EOF)
		bad = 1;
	return bad ? -1 : 0;
}

/*
 * Open /dev/null on whichever of fds 0-2 is closed, before anything else:
 * sshd and ssh may start us so, and a file we open must never become our
 * stdout. -1 when /dev/null cannot be opened.
 */
int
out_stdfd(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

/* SCITEX_SSH_DEBUG_MODE=1 asks every program for its -v. */
int
out_debug_env(void)
{
	const char *v = getenv("SCITEX_SSH_DEBUG_MODE");

	return v != NULL && strcmp(v, "1") == 0;
}

/* -V: "PROGRAM scitex-ssh VERSION" on stdout; the exit status. */
static int
out_version(const char *prog)
{
	printf("%s scitex-ssh %s\n", prog, VERSION);
	return out_close(stdout) == -1 ? EX_OSERR : 0;
}

/*
 * The flags every program takes alike, as its option switch's default: -h
 * (usage on stdout, status 0), -V, and -q and -v, each undoing the other
 * so that the last one given counts (quiet NULL: the program takes
 * neither). Anything else is a usage error. Returns after -q and -v only.
 */
void
out_flag(int ch, const char *prog, void (*usage)(FILE *, int), int *quiet,
    int *verbose)
{
	switch (ch) {
	case 'h':
		usage(stdout, 0);
		break;
	case 'V':
		exit(out_version(prog));
	case 'q':
	case 'v':
		if (quiet != NULL) {
			*quiet = ch == 'q';
			*verbose = ch == 'v';
			break;
		}
		/* FALLTHROUGH */
	default:
		usage(stderr, EX_USAGE);
	}
}

/* A library's note hook (lifecycle.h): what it says, as a warning. */
void
out_note(void *arg, int level, const char *msg)
{
	warnx("%s", msg);
}

/* usage()'s exit status: ex, or EX_OSERR when -h's text was not written. */
int
out_usage_status(FILE *fp, int ex)
{
	if (fp == stdout && out_close(stdout) == -1)
		return EX_OSERR;
	return ex;
}
