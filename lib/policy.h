/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>

#include "config.h"
#include "sxerr.h"

#define FEATURE_MAX	64

struct policy_rule;
struct feat;

struct policy {
	char		 path[4096];	/* "" when no file was found */
	char		 searched[2048];
	struct policy_rule *rule;	/* hosts:, in file order */
	size_t		 nrule;
	struct policy_rule *dflt;	/* default:, or NULL */
	struct feat	*feat;		/* every rule's features, in order */
	size_t		 nfeat;
	struct config	*cf;		/* owned: strings point into it... */
	void		*blob;		/* ...or into the compiled copy */
};

enum decision_by { DEC_RULE, DEC_DEFAULT, DEC_NONE, DEC_NOFILE };

struct decision {
	int		 allow;
	enum decision_by by;
	const char	*path;		/* file that decided */
	const char	*pattern;	/* hosts: key (DEC_RULE) */
	const char	*feature;
	unsigned	 line, col;	/* of the value that decided */
};

int	policy_open(const char *, struct policy **, struct sxerr *);
int	policy_load(const struct config *, struct policy **, struct sxerr *);
void	policy_free(struct policy *);
int	policy_valid_feature(const char *, struct sxerr *);
void	policy_decide(const struct policy *, const char *, const char *,
	    struct decision *);
void	policy_explain(const struct decision *, const char *, char *, size_t);

#endif
