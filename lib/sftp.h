/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef SFTP_H
#define SFTP_H

#include <stddef.h>
#include <stdint.h>

#include "guard.h"
#include "sxerr.h"

/*
 * The sftp request filter of ssh-copy-guard: it stands between the client
 * and sftp-server (protocol version 3, as OpenSSH speaks it) and checks
 * every request against the roots before the server sees it.
 *
 * A packet is given whole, without its 4-byte length. sftp_client() decides
 * on a client request: *pass set means forward it as it came; otherwise a
 * rewritten request (paths made canonical) may have been appended to
 * toserver, or the request was refused, and its answer (SSH_FXP_STATUS with
 * the request's id) waits in the filter until sftp_local() hands it out in
 * the place the server's answer would have had. sftp_server() follows the
 * server's answers: each must answer the oldest request still open; HANDLE
 * answers to OPEN and OPENDIR teach the filter what each handle is, and
 * VERSION loses the extensions the filter refuses. Both return -1 with
 * EX_DATAERR on anything that cannot be parsed or does not fit the
 * protocol: the session must end then, nothing more may be forwarded.
 *
 * sftp_serve() is the whole subsystem: spawn cmd's prog with its argv, env
 * and pipes, confine this process (Landlock, read-only on the roots, when
 * the kernel offers it), relay until either side ends, and return the
 * server's exit status (or -1 and e on a failure of our own; the server is
 * then killed). log, when not NULL, is called with one line per refusal.
 */
#define SFTP_MAX_MSG	(256 * 1024)	/* OpenSSH's SFTP_MAX_MSG_LENGTH */
#define SFTP_QMAX	1024		/* requests in flight at once */
#define SFTP_HMAX	512		/* open handles at once */

struct sftp_buf {
	unsigned char	*p;
	size_t		 len, cap;
};

struct sftp_handle {
	char		*path;		/* canonical; NULL: free */
	unsigned char	 dir, write, rw;
};

struct sftp_pend {
	uint32_t	 id;
	unsigned char	 what;		/* enum in sftp.c */
	uint32_t	 status;	/* a local answer's status */
	const char	*msg;		/* and its message */
	char		*path;		/* OPEN, OPENDIR: what it opens */
	unsigned char	 write, rw;
};

typedef void	 sftp_log_fn(void *, const char *);

struct sftp {
	const struct guard	*g;
	int			 state;	/* 0 before INIT, 1 INIT sent, 2 up */
	struct sftp_handle	*h;
	size_t			 nh;
	size_t			 nopen;	/* handles plus opens in flight */
	struct sftp_pend	 q[SFTP_QMAX];
	size_t			 qhead, qlen;
	sftp_log_fn		*log;
	void			*logarg;
};

void	sftp_init(struct sftp *, const struct guard *, sftp_log_fn *, void *);
void	sftp_free(struct sftp *);
int	sftp_client(struct sftp *, const unsigned char *, size_t,
	    struct sftp_buf *toserver, int *pass, struct sxerr *);
int	sftp_server(struct sftp *, const unsigned char *, size_t,
	    struct sftp_buf *toclient, int *pass, struct sxerr *);
int	sftp_local(struct sftp *, struct sftp_buf *toclient);
int	sftp_busy(const struct sftp *);
int	sftp_buf_init(struct sftp_buf *, size_t);
void	sftp_buf_free(struct sftp_buf *);
int	sftp_serve(const struct guard *, const struct guard_cmd *,
	    char *const env[], sftp_log_fn *, void *, struct sxerr *);

#endif
