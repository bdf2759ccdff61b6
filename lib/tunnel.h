/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef TUNNEL_H
#define TUNNEL_H

#include <stddef.h>

#include "config.h"
#include "host.h"
#include "sxerr.h"

/*
 * A tunnel definition: one entry of the config file's tunnels: section or
 * one tunnels.d/NAME.yaml file. Every value is validated on the way in, so
 * that what is written out (YAML, argv, authorized_keys, ssh_config) needs
 * no escaping.
 */
#define TUN_FWD_MAX	16
#define TUN_BASTION_MAX	8
#define TUN_OPT_MAX	32
#define TUN_OPT_LEN	512	/* one option, its NUL included */
#define TUN_OPT_BUF	4096	/* all of them, one after another */
#define TUN_PATH_MAX	1024
#define TUN_ARGV_MAX	(16 + 2 * TUN_OPT_MAX + 2 * TUN_FWD_MAX + 16)

#define TUN_ALIVE_INTERVAL	5	/* a dead link is noticed in 15-20 s */
#define TUN_ALIVE_COUNT		3
#define TUN_RETRY_MAX		30
#define TUN_CONNECT_TIMEOUT	5

struct forward {
	char	dir;			/* 'R' or 'L' */
	char	bind[HOST_MAX + 1];	/* "" when none was given */
	int	port;
	char	host[HOST_MAX + 1];
	int	hostport;
};

/*
 * An L forward to a service that moves (scitex-ssh 1.0's `tunnel forward
 * --discovery`): a JSON file that a scheduler rewrites names its host and
 * port. Its forward is fwd[fwd], with host "" (and port 0 when the local
 * port follows the remote one) until lib/discovery.c fills them in.
 */
#define TUN_FIELD_LEN	64

struct discovery {
	char	file[TUN_PATH_MAX];	/* absolute or ~/; "" when none */
	char	host_field[TUN_FIELD_LEN];
	char	port_field[TUN_FIELD_LEN];
	int	remote_port;		/* 0: the file's port_field */
	int	port_follows;		/* no local port: the remote one */
	size_t	fwd;
};

struct tunnel {
	/*
	 * The scalars first, then the arrays so laid out that a tunnel of
	 * one bastion and a few forwards and options sets two of its five
	 * pages (0 and 2): a supervisor keeps its tunnel in pages of its
	 * own, and those left zero cost it nothing (lib/memtrim.h).
	 */
	char		name[NAME_MAX_LEN + 1];
	size_t		nbastion;
	size_t		nfwd;
	int		alive_interval;
	int		alive_count;
	int		retry_max;
	size_t		optused;
	size_t		nopt;
	/*
	 * The ssh options, packed: a supervisor keeps its tunnel for life
	 * and ssh-tunnel-ls one per row, so 4 KiB rather than 32 of 512.
	 * Offsets, not pointers: a tunnel is copied and compared whole.
	 */
	unsigned short	optat[TUN_OPT_MAX];
	struct bastion	bastion[TUN_BASTION_MAX];
	struct forward	fwd[TUN_FWD_MAX];
	char		key[TUN_PATH_MAX];	/* as written (~ allowed); "" none */
	char		optbuf[TUN_OPT_BUF];
	struct discovery disc;
};

/* The exact argv for ssh, with the storage its strings live in. */
struct sshargv {
	char	*argv[TUN_ARGV_MAX];
	size_t	 argc;
	char	 buf[24576];
	size_t	 used;
};

void	tunnel_init(struct tunnel *, const char *);
int	tunnel_parse_forward(const char *, struct forward *, struct sxerr *);
int	tunnel_fmt_forward(const struct forward *, int, char *, size_t);
int	tunnel_valid_name(const char *, struct sxerr *);
int	tunnel_valid_option(const char *, struct sxerr *);
int	tunnel_valid_key(const char *, struct sxerr *);
int	tunnel_add_option(struct tunnel *, const char *, struct sxerr *);
const char *tunnel_option(const struct tunnel *, size_t);
int	tunnel_from_node(const char *, const char *, const struct cnode *,
	    struct tunnel *, struct sxerr *);
int	tunnel_load_file(const char *, const char *, struct tunnel *,
	    struct sxerr *);
int	tunnel_check(const struct tunnel *, struct sxerr *);
int	tunnel_key_path(const struct tunnel *, char *, size_t,
	    struct sxerr *);
int	tunnel_home_path(const char *, char *, size_t, struct sxerr *);
int	tunnel_set_discovery(struct tunnel *, const char *, const char *,
	    int, struct sxerr *);
int	tunnel_check_key(const struct tunnel *, struct sxerr *);
int	tunnel_yaml(const struct tunnel *, char *, size_t, struct sxerr *);
int	tunnel_argv(const struct tunnel *, size_t, const char *, int,
	    struct sshargv *, struct sxerr *);
int	tunnel_probe_argv(const struct tunnel *, size_t, const struct forward *,
	    const char *, struct sshargv *, struct sxerr *);
int	tunnel_authkeys(const struct tunnel *, char *, size_t, struct sxerr *);
int	tunnel_sshd_match(const struct tunnel *, char *, size_t,
	    struct sxerr *);
int	tunnel_client_block(const struct tunnel *, size_t, char *, size_t,
	    struct sxerr *);
const struct forward *tunnel_first_remote(const struct tunnel *);
size_t	tunnel_nremote(const struct tunnel *);

#endif
