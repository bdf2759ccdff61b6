/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef PCACHE_H
#define PCACHE_H

#include <sys/stat.h>

#include <stddef.h>

/*
 * A compiled form of a file, kept in the user's cache directory and valid
 * only while the file is byte for byte the one it was made from (device,
 * inode, size, mtime and ctime agree). It spares ssh-allow-check the YAML
 * parse on every ssh invocation.
 */
int	pcache_get(const char *, const char *, const struct stat *, void **,
	    size_t *);
void	pcache_put(const char *, const char *, const struct stat *,
	    const void *, size_t);

/*
 * A set: the compiled forms of many files (a directory's) in one cache
 * file, each valid only while its own file is the one it was made from.
 * Loaded (pcset_load) to be looked in, or made (pcset_add) to be written
 * (pcset_put); never both.
 */
struct pcent {
	const char	*name;		/* in buf, not NUL-terminated */
	size_t		 namelen;
	size_t		 off;		/* of its record in buf */
};

struct pcset {
	char		*buf;		/* the records */
	size_t		 len, room;
	struct pcent	*v;		/* loaded: by name */
	size_t		 n;
};

int	pcset_load(const char *, const char *, struct pcset *);
int	pcset_parse(struct pcset *, char *, size_t);
const void *pcset_find(const struct pcset *, const char *,
	    const struct stat *, size_t *);
int	pcset_add(struct pcset *, const char *, const struct stat *,
	    const void *, size_t);
void	pcset_put(const char *, const char *, const struct pcset *);
void	pcset_free(struct pcset *);

#endif
