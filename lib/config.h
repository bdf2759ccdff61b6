/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "sxerr.h"

/*
 * The YAML file as a small tree that remembers where each node was, so that
 * whoever interprets a section (policy, tunnel, guard) can name
 * file:line:column in its errors. Aliases are refused; duplicate map keys
 * are an error.
 */
enum cnode_type { CN_SCALAR, CN_SEQ, CN_MAP };

struct cnode {
	enum cnode_type	  type;
	char		 *str;		/* scalar text; NULL otherwise */
	int		  plain;	/* scalar was unquoted */
	struct cnode	**kid;		/* seq: items; map: key, value, ... */
	size_t		  nkid;
	unsigned	  line, col;	/* 1-based */
};

struct config {
	char		 path[4096];	/* "" when no file was found */
	char		 searched[2048];/* where we looked, for messages */
	struct cnode	*root;		/* a map; NULL when no file */
};

int	 config_find(const char *, char *, size_t, char *, size_t,
	    struct sxerr *);
int	 config_open(const char *, struct config **, struct sxerr *);
int	 config_load(const char *, struct config **, struct sxerr *);
void	 config_free(struct config *);
int	 config_parse(const char *, const char *, size_t, struct cnode **,
	    struct sxerr *);
int	 config_parse_file(const char *, struct cnode **, struct sxerr *);
void	 cnode_free(struct cnode *);
const struct cnode *cnode_get(const struct cnode *, const char *);
int	 cnode_is_null(const struct cnode *);
int	 config_err(struct sxerr *, const char *, const struct cnode *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
int	 config_default_path(char *, size_t);

#endif
