#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-only
"""A raw sftp (version 3) client for tests: the requests the sftp CLI
cannot send, one a line on stdin, to the program given as arguments (for
example "ssh -F CFG -s fixture sftp", or ssh-copy-guard itself). One line
of output per request:  WORD: ok | status CODE MESSAGE | handle | name PATH
| attrs mode=0NNN uid=N gid=N size=N | data N | reply N | closed.

Requests (tokens split at blanks, quotes as in sh; backslash escapes
such as \\x00 work inside paths):
  open H PATH FLAGS [ATTRS]    FLAGS of r w a c t x; H names the handle
  opendir H PATH   readdir H   close H   fstat H   fsync H   fstatvfs H
  read H OFF LEN   write H OFF DATA   fsetstat H ATTRS
  stat P  lstat P  realpath P  readlink P  remove P  rmdir P  statvfs P
  mkdir P [ATTRS]  setstat P ATTRS  lsetstat P ATTRS  expand P
  rename A B  posix-rename A B  hardlink A B  symlink TARGET LINK
  copy-data H1 OFF LEN H2 OFF   limits   home USER   ugids UID GID
  ext NAME   type N   raw HEX (a whole packet, length included)
ATTRS: comma list of mode=OCTAL uid=N gid=N size=N time=N
"""
import shlex
import struct
import subprocess
import sys

T = dict(INIT=1, VERSION=2, OPEN=3, CLOSE=4, READ=5, WRITE=6, LSTAT=7,
         FSTAT=8, SETSTAT=9, FSETSTAT=10, OPENDIR=11, READDIR=12, REMOVE=13,
         MKDIR=14, RMDIR=15, REALPATH=16, STAT=17, RENAME=18, READLINK=19,
         SYMLINK=20, STATUS=101, HANDLE=102, DATA=103, NAME=104, ATTRS=105,
         EXTENDED=200, EXTENDED_REPLY=201)


def b(tok):
    return tok.encode().decode('unicode_escape').encode('latin-1')


def s(x):
    return struct.pack('>I', len(x)) + x


def attrs(spec):
    fl, body = 0, b''
    kv = dict(p.split('=') for p in spec.split(',') if p) if spec else {}
    if 'size' in kv:
        fl |= 1
        body += struct.pack('>Q', int(kv['size']))
    if 'uid' in kv or 'gid' in kv:
        fl |= 2
        body += struct.pack('>II', int(kv.get('uid', 0)),
                            int(kv.get('gid', 0)))
    if 'mode' in kv:
        fl |= 4
        body += struct.pack('>I', int(kv['mode'], 8))
    if 'time' in kv:
        fl |= 8
        body += struct.pack('>II', int(kv['time']), int(kv['time']))
    return struct.pack('>I', fl) + body


class Conn:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.id = 0

    def send(self, data):
        self.raw(struct.pack('>I', len(data)) + data)

    def raw(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
        except BrokenPipeError:
            pass

    def recv(self):
        h = self.p.stdout.read(4)
        if len(h) < 4:
            return None
        n, = struct.unpack('>I', h)
        return self.p.stdout.read(n)

    def req(self, t, body):
        self.id += 1
        self.send(bytes([t]) + struct.pack('>I', self.id) + body)
        return self.id


def getstr(p, o):
    n, = struct.unpack('>I', p[o:o + 4])
    return p[o + 4:o + 4 + n], o + 4 + n


def show(word, p):
    if p is None:
        print(word + ': closed')
        return None
    t = p[0]
    if t == T['STATUS']:
        code, = struct.unpack('>I', p[5:9])
        msg, _ = getstr(p, 9)
        print('%s: %s' % (word, 'ok' if code == 0 else
                          'status %d %s' % (code, msg.decode(errors='replace'))))
    elif t == T['HANDLE']:
        print(word + ': handle')
        return getstr(p, 5)[0]
    elif t == T['NAME']:
        n, = struct.unpack('>I', p[5:9])
        name, _ = getstr(p, 9) if n else (b'', 0)
        print('%s: name %s' % (word, name.decode(errors='replace')))
    elif t == T['ATTRS']:
        fl, = struct.unpack('>I', p[5:9])
        o, out = 9, []
        if fl & 1:
            out.append('size=%d' % struct.unpack('>Q', p[o:o + 8]))
            o += 8
        if fl & 2:
            u, g = struct.unpack('>II', p[o:o + 8])
            out += ['uid=%d' % u, 'gid=%d' % g]
            o += 8
        if fl & 4:
            out.append('mode=0%o' % (struct.unpack('>I', p[o:o + 4])[0] & 0o7777))
        print('%s: attrs %s' % (word, ' '.join(out)))
    elif t == T['DATA']:
        d, _ = getstr(p, 5)
        print('%s: data %d' % (word, len(d)))
    elif t == T['EXTENDED_REPLY']:
        print('%s: reply %d' % (word, len(p) - 5))
    else:
        print('%s: type %d' % (word, t))
    return None


def main():
    c = Conn(sys.argv[1:])
    c.send(bytes([T['INIT']]) + struct.pack('>I', 3))
    v = c.recv()
    if v is None or v[0] != T['VERSION']:
        print('version: closed')
        return 1
    o, exts = 5, []
    while o < len(v):
        n, o = getstr(v, o)
        _, o = getstr(v, o)
        exts.append(n.decode())
    print('version %d %s' % (struct.unpack('>I', v[1:5])[0], ' '.join(exts)))
    hs = {}
    for line in sys.stdin:
        lex = shlex.shlex(line, posix=True)
        lex.whitespace_split = True
        lex.escape = ''
        a = list(lex)
        if not a or a[0].startswith('#'):
            continue
        w, x = a[0], a[1:]
        H = lambda k: s(hs.get(k, k.encode()))
        if w == 'raw':
            c.raw(bytes.fromhex(x[0]))
        elif w == 'open':
            fl = sum({'r': 1, 'w': 2, 'a': 4, 'c': 8, 't': 16, 'x': 32}[ch]
                     for ch in x[2])
            c.req(T['OPEN'], s(b(x[1])) + struct.pack('>I', fl) +
                  attrs(x[3] if len(x) > 3 else ''))
        elif w == 'opendir':
            c.req(T['OPENDIR'], s(b(x[1])))
        elif w in ('close', 'fstat', 'readdir'):
            c.req(T[w.upper()], H(x[0]))
        elif w == 'read':
            c.req(T['READ'], H(x[0]) + struct.pack('>QI', int(x[1]), int(x[2])))
        elif w == 'write':
            c.req(T['WRITE'], H(x[0]) + struct.pack('>Q', int(x[1])) + s(b(x[2])))
        elif w == 'fsetstat':
            c.req(T['FSETSTAT'], H(x[0]) + attrs(x[1]))
        elif w in ('stat', 'lstat', 'realpath', 'readlink', 'remove', 'rmdir'):
            c.req(T[w.upper()], s(b(x[0])))
        elif w == 'mkdir':
            c.req(T['MKDIR'], s(b(x[0])) + attrs(x[1] if len(x) > 1 else ''))
        elif w == 'setstat':
            c.req(T['SETSTAT'], s(b(x[0])) + attrs(x[1]))
        elif w in ('rename', 'symlink'):
            c.req(T[w.upper()], s(b(x[0])) + s(b(x[1])))
        elif w in ('posix-rename', 'hardlink'):
            c.req(T['EXTENDED'], s(w.encode() + b'@openssh.com') +
                  s(b(x[0])) + s(b(x[1])))
        elif w in ('statvfs', 'expand'):
            n = 'statvfs' if w == 'statvfs' else 'expand-path'
            c.req(T['EXTENDED'], s(n.encode() + b'@openssh.com') + s(b(x[0])))
        elif w == 'lsetstat':
            c.req(T['EXTENDED'], s(b'lsetstat@openssh.com') + s(b(x[0])) +
                  attrs(x[1]))
        elif w in ('fsync', 'fstatvfs'):
            c.req(T['EXTENDED'], s(w.encode() + b'@openssh.com') + H(x[0]))
        elif w == 'limits':
            c.req(T['EXTENDED'], s(b'limits@openssh.com'))
        elif w == 'copy-data':
            c.req(T['EXTENDED'], s(b'copy-data') + H(x[0]) +
                  struct.pack('>QQ', int(x[1]), int(x[2])) + H(x[3]) +
                  struct.pack('>Q', int(x[4])))
        elif w == 'home':
            c.req(T['EXTENDED'], s(b'home-directory') + s(b(x[0])))
        elif w == 'ugids':
            c.req(T['EXTENDED'], s(b'users-groups-by-id@openssh.com') +
                  s(struct.pack('>I', int(x[0]))) +
                  s(struct.pack('>I', int(x[1]))))
        elif w == 'ext':
            c.req(T['EXTENDED'], s(b(x[0])))
        elif w == 'type':
            c.req(int(x[0]), b'')
        else:
            print('sftpraw: unknown request ' + w, file=sys.stderr)
            return 2
        p = c.recv()
        h = show(w, p)
        if p is None:
            break
        if h is not None and w in ('open', 'opendir'):
            hs[x[0]] = h
    try:
        c.p.stdin.close()
    except BrokenPipeError:
        pass
    return c.p.wait()


if __name__ == '__main__':
    sys.exit(main())
