/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dirwatch.h"
#include "discovery.h"
#include "slurp.h"

/* The target in the parsed file, checked as ssh-allow-check checks a
 * host: no option, no space, no shell, nothing to quote. */
static int
target(const struct tunnel *t, const char *path, const struct cnode *root,
    struct dtarget *d, struct sxerr *e)
{
	const struct discovery *ds = &t->disc;
	const struct cnode *h, *p;
	struct sxerr sub;

	if (root == NULL || root->type != CN_MAP)
		return sxerr_set(e, EX_DATAERR, "%s: want a JSON object",
		    path);
	h = cnode_get(root, ds->host_field);
	if (h == NULL || h->type != CN_SCALAR || h->str == NULL)
		return sxerr_set(e, EX_DATAERR, "%s: no \"%s\" (the host)",
		    path, ds->host_field);
	if (h->str[0] == '-')
		return sxerr_set(e, EX_DATAERR, "%s: %s: a host may not "
		    "begin with -", path, ds->host_field);
	if (host_canon(h->str, d->host, sizeof(d->host), &sub) == -1)
		return sxerr_set(e, EX_DATAERR, "%s: %s: %s", path,
		    ds->host_field, sub.msg);
	if (ds->remote_port != 0)
		d->port = ds->remote_port;
	else if ((p = cnode_get(root, ds->port_field)) == NULL ||
	    p->type != CN_SCALAR || p->str == NULL ||
	    host_parse_port(p->str, &d->port, &sub) == -1)
		/* a number, or a string of digits: both are scalars here */
		return sxerr_set(e, EX_DATAERR, "%s: \"%s\": want a port from "
		    "1 to 65535", path, ds->port_field);
	return 0;
}

/*
 * Read t's discovery file into d. A regular file of at most
 * DISC_FILE_MAX bytes, parsed by the config loader (JSON is YAML's flow
 * style): EX_NOINPUT when it is not there, EX_DATAERR when it is not what
 * a scheduler writes.
 */
int
discovery_read(const struct tunnel *t, struct dtarget *d, struct sxerr *e)
{
	char path[TUN_PATH_MAX];
	struct stat st;
	size_t len;
	char *buf;
	int fd, rc;

	memset(d, 0, sizeof(*d));
	if (tunnel_home_path(t->disc.file, path, sizeof(path), e) == -1)
		return -1;
	/* O_NONBLOCK: a FIFO planted there must not hang the supervisor. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return sxerr_errno(e, errno == ENOENT ? EX_NOINPUT : EX_DATAERR,
		    "%s", path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > DISC_FILE_MAX) {
		close(fd);
		return sxerr_set(e, EX_DATAERR, "%s: not a regular file of at "
		    "most %d bytes", path, DISC_FILE_MAX);
	}
	if ((buf = malloc(DISC_FILE_MAX + 1)) == NULL) {
		close(fd);
		return sxerr_errno(e, EX_OSERR, "malloc");
	}
	rc = slurp_fd(fd, buf, DISC_FILE_MAX + 1, &len);
	close(fd);
	if (rc != 0) {
		free(buf);
		return sxerr_errno(e, EX_DATAERR, "%s: read", path);
	}
	rc = discovery_parse(t, path, buf, len, d, e);
	free(buf);
	return rc;
}

/* The target in text, the contents of the file path (for messages). */
int
discovery_parse(const struct tunnel *t, const char *path, const char *text,
    size_t len, struct dtarget *d, struct sxerr *e)
{
	struct cnode *root;
	int rc;

	memset(d, 0, sizeof(*d));
	if (config_parse(path, text, len, &root, e) == -1) {
		e->ex = EX_DATAERR;
		return -1;
	}
	rc = target(t, path, root, d, e);
	cnode_free(root);
	return rc;
}

/* t's discovery forward to d; a local port of 0 follows the remote one. */
void
discovery_point(struct tunnel *t, const struct dtarget *d)
{
	struct forward *f = &t->fwd[t->disc.fwd];

	strlcpy(f->host, d->host, sizeof(f->host));
	f->hostport = d->port;
	if (t->disc.remote_port == 0 && t->disc.port_follows)
		f->port = d->port;
}

int
discovery_same(const struct dtarget *a, const struct dtarget *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/*
 * An inotify descriptor on the file's directory (a scheduler replaces the
 * file by a rename, which a watch on the file itself would lose), or -1:
 * then the file is read at every connect only.
 */
int
discovery_watch(const struct tunnel *t)
{
	char path[TUN_PATH_MAX], *slash;
	const char *dirs[1] = { path };
	struct sxerr e;

	if (t->disc.file[0] == '\0' ||
	    tunnel_home_path(t->disc.file, path, sizeof(path), &e) == -1 ||
	    (slash = strrchr(path, '/')) == NULL)
		return -1;
	*(slash == path ? slash + 1 : slash) = '\0';
	return dirwatch_open(dirs, 1, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB);
}

struct named {
	const char	*base;
	int		 hit;
};

static void
named(const char *name, void *arg)
{
	struct named *n = arg;

	if (strcmp(name, n->base) == 0)
		n->hit = 1;
}

/* Drain fd; 1 when an event named t's file, or events were lost. */
int
discovery_news(int fd, const struct tunnel *t)
{
	struct named n;

	n.base = strrchr(t->disc.file, '/');
	n.base = n.base != NULL ? n.base + 1 : t->disc.file;
	n.hit = 0;
	return dirwatch_drain(fd, named, &n) || n.hit;
}
