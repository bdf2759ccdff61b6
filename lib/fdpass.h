/* SPDX-License-Identifier: AGPL-3.0-only */
#ifndef FDPASS_H
#define FDPASS_H

/*
 * One descriptor over a unix socket: one data byte carrying it as
 * SCM_RIGHTS, as ssh's ProxyUseFdpass and the connect slots pass them.
 * fdpass_send: sendmsg's result (1, or -1 with errno), flags added to
 * MSG_NOSIGNAL. fdpass_recv: the descriptor received (close-on-exec)
 * into *fd, else -1 there; recvmsg's result, flags added to
 * MSG_CMSG_CLOEXEC. Any more descriptors than one are closed.
 */
int	fdpass_send(int, int, int);
int	fdpass_recv(int, int *, int);

#endif
