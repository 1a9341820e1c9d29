// System calls the daemon needs and Node does not offer cheaply.
//
// spawn(file, args, env, cwd, stdio, detached, keepAlive, onExit) -> [pid, fd per stdio entry]
//   Node's child_process forks the whole daemon (libuv uses fork(2)): copying its page tables and
//   waiting for the child's exec blocked the event loop about 10 ms per command here, and a
//   container's create and removal run about ten commands. posix_spawn(3) uses CLONE_VM|CLONE_VFORK
//   instead (as Go's os/exec does), which costs well under a millisecond whatever the daemon's size.
//   - file is looked up in PATH (posix_spawnp); env is an array of "K=V" or null for the daemon's.
//   - stdio[i] says what the child's fd i is: -1 = /dev/null, -2 = a new pipe (the parent's end is
//     returned: the write end for fd 0, the read end otherwise), >= 0 = that fd of the daemon.
//   - detached: a new session (setsid), as child_process's `detached`.
//   - onExit(code, signal) is called once the child has exited; it is reaped here (through a pidfd
//     polled on Node's loop), never by libuv, which only waits for the pids it spawned itself.
//     keepAlive false: a running child does not keep the daemon's loop alive (child.unref()).
//   Signal dispositions and the signal mask are reset in the child (Node ignores SIGPIPE).
// mount(source, target, fstype, flags, data) and umount2(target, flags): mount(2) and umount2(2),
//   throwing an Error whose code is the errno name.
// wireWorkload(netnsPath, hostVeth, bridge, mac, address, prefixLength, gateway): over rtnetlink,
//   a veth on the bridge whose peer is eth0 in the netns, and inside lo up, eth0's address, eth0 up
//   and the default route (what `ip link add ... netns`, `ip link set ... master up` and an
//   `ip -batch` in the netns did, without three processes on every container's create).
// createNetns(path, disableIpv6): what `ip netns add` does (a new network namespace, bind-mounted on
//   path, in a directory that is a shared mount point), from a short-lived thread of the daemon
//   instead of processes: a container's create waits for its netns before runc can start. With
//   disableIpv6, IPv6 is turned off in it (all and default) before any interface is added.
// openBeneath(root, rel) -> fd: the directory rel under the directory root, opened O_PATH by
//   openat2(2) with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS: no symlink and no ".." on the way, so a
//   container that swaps a directory of the path for a symlink meanwhile gets ELOOP rather than the
//   host's files. The caller reaches entries as /proc/self/fd/FD/NAME and closes fd (weft cp).
// mknod(path, mode, major, minor): mknod(2), for the device nodes and FIFOs an archive holds, with
//   the whole mode (the umask's bits put back).
// lgetxattr(path, name) -> Buffer | null: lgetxattr(2), null when the file has no such attribute
//   (overlayfs marks a directory made again over a deleted one with trusted.overlay.opaque).
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

#define MAX_STDIO 16

/** Throws an Error "WHAT: strerror(err)" with code and errno set; WHAT is printf-formatted. */
__attribute__((format(printf, 3, 4))) static napi_value throw_errno(napi_env env, int err, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  char msg[512];
  snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
  napi_value code, message, error;
  const char *name = err == ENOENT    ? "ENOENT"
                     : err == EACCES  ? "EACCES"
                     : err == EPERM   ? "EPERM"
                     : err == EBUSY   ? "EBUSY"
                     : err == EINVAL  ? "EINVAL"
                     : err == ENOTDIR ? "ENOTDIR"
                     : err == ENOSYS  ? "ENOSYS"
                     : err == EMFILE  ? "EMFILE"
                     : err == ENOMEM  ? "ENOMEM"
                     : err == E2BIG   ? "E2BIG"
                     : err == EEXIST  ? "EEXIST"
                     : err == ENODEV  ? "ENODEV"
                     : err == ENETUNREACH ? "ENETUNREACH"
                     : err == ELOOP   ? "ELOOP"
                     : err == EXDEV   ? "EXDEV"
                     : err == EAGAIN  ? "EAGAIN"
                     : err == ENODATA ? "ENODATA"
                                      : "ESYSCALL";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

/** The call's first n arguments; false (a TypeError showing the usage thrown) when fewer came. */
static bool args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= n) return true;
  napi_throw_type_error(env, "ERR_INVALID_ARG", usage);
  return false;
}

/** A JS string as a malloc'd C string (NULL on failure, with a TypeError thrown). */
static char *string_arg(napi_env env, napi_value v, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof(msg), "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {  // an embedded NUL would silently cut the argument short
    free(s);
    char msg[128];
    snprintf(msg, sizeof(msg), "%s must not contain a NUL character", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
    return NULL;
  }
  return s;
}

static void free_vector(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

/** A JS array of strings as a NULL-terminated vector; `first` (if any) goes before them. */
static char **vector_arg(napi_env env, napi_value arr, const char *first, const char *what) {
  bool is_array = false;
  napi_is_array(env, arr, &is_array);
  if (!is_array) {
    char msg[128];
    snprintf(msg, sizeof(msg), "%s must be an array of strings", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
    return NULL;
  }
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  size_t off = first ? 1 : 0;
  char **v = calloc(n + off + 1, sizeof(char *));
  if (!v) return NULL;
  if (first) v[0] = strdup(first);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i + off] = string_arg(env, e, what);
    if (!v[i + off]) {
      free_vector(v);
      return NULL;
    }
  }
  return v;
}

struct child {
  napi_env env;
  napi_ref on_exit;
  napi_async_context async;
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
};

static void child_closed(uv_handle_t *h) { free(h->data); }

static void child_exited(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct child *c = h->data;
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  if (waitid(P_PIDFD, c->pidfd, &si, WEXITED | WNOHANG) != 0) {
    if (errno == EINTR || errno == EAGAIN) return;
  } else if (si.si_pid == 0) {
    return;  // not exited yet (a spurious wake-up)
  }
  uv_poll_stop(h);
  napi_env env = c->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2];
  napi_get_reference_value(env, c->on_exit, &cb);
  napi_get_global(env, &recv);  // napi_make_callback wants an object as `this`
  if (si.si_code == CLD_EXITED) {
    napi_create_int32(env, si.si_status, &argv[0]);
    napi_get_null(env, &argv[1]);
  } else if (si.si_pid != 0) {
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, si.si_status, &argv[1]);
  } else {
    // waitid failed (ECHILD: someone else reaped it): report an unknown exit rather than none.
    napi_get_null(env, &argv[0]);
    napi_get_null(env, &argv[1]);
  }
  if (cb) {
    napi_value result;
    if (napi_make_callback(env, c->async, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, c->on_exit);
  napi_async_destroy(env, c->async);
  close(c->pidfd);
  uv_close((uv_handle_t *)h, child_closed);
}

static napi_value spawn(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!args_of(env, info, 8, argv, "spawn(file, args, env, cwd, stdio, detached, keepAlive, onExit)"))
    return NULL;
  napi_valuetype t;
  napi_value result = NULL;
  char *file = NULL, *cwd = NULL;
  char **args = NULL, **envp = NULL;
  int src[MAX_STDIO], parent_end[MAX_STDIO];
  uint32_t nstdio = 0;
  for (int i = 0; i < MAX_STDIO; i++) src[i] = parent_end[i] = -1;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  bool fa_init = false, attr_init = false;

  file = string_arg(env, argv[0], "file");
  if (!file) goto out;
  args = vector_arg(env, argv[1], file, "args");
  if (!args) goto out;
  napi_typeof(env, argv[2], &t);
  if (t != napi_null && t != napi_undefined) {
    envp = vector_arg(env, argv[2], NULL, "env");
    if (!envp) goto out;
  }
  napi_typeof(env, argv[3], &t);
  if (t != napi_null && t != napi_undefined) {
    cwd = string_arg(env, argv[3], "cwd");
    if (!cwd) goto out;
  }
  bool is_array = false;
  napi_is_array(env, argv[4], &is_array);
  if (is_array) napi_get_array_length(env, argv[4], &nstdio);
  if (!is_array || nstdio < 3 || nstdio > MAX_STDIO) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "stdio must be an array of 3 to 16 numbers");
    goto out;
  }
  bool detached = false, keep_alive = true;
  napi_get_value_bool(env, argv[5], &detached);
  napi_get_value_bool(env, argv[6], &keep_alive);
  napi_typeof(env, argv[7], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "onExit must be a function");
    goto out;
  }

  // Every fd the child gets is first copied above the stdio range (close-on-exec), so that no dup2
  // below overwrites a source another one still needs.
  for (uint32_t i = 0; i < nstdio; i++) {
    napi_value e;
    int32_t s = -1;
    napi_get_element(env, argv[4], i, &e);
    if (napi_get_value_int32(env, e, &s) != napi_ok || s < -2) {
      napi_throw_type_error(env, "ERR_INVALID_ARG", "stdio entries are -1 (ignore), -2 (pipe) or an fd");
      goto out;
    }
    if (s == -1) continue;
    int fd;
    if (s == -2) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) {
        throw_errno(env, errno, "pipe2");
        goto out;
      }
      fd = i == 0 ? p[0] : p[1];
      parent_end[i] = i == 0 ? p[1] : p[0];
    } else {
      fd = s;
    }
    src[i] = fcntl(fd, F_DUPFD_CLOEXEC, (int)nstdio);
    int err = errno;
    if (s == -2) close(fd);
    if (src[i] < 0) {
      throw_errno(env, err, "fcntl(F_DUPFD_CLOEXEC)");
      goto out;
    }
  }

  posix_spawn_file_actions_init(&fa);
  fa_init = true;
  for (uint32_t i = 0; i < nstdio; i++) {
    if (src[i] < 0)
      posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0);
    else
      posix_spawn_file_actions_adddup2(&fa, src[i], (int)i);  // dup2 clears close-on-exec
  }
  if (cwd) posix_spawn_file_actions_addchdir_np(&fa, cwd);
  posix_spawnattr_init(&attr);
  attr_init = true;
  sigset_t all, none;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (detached) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid = 0;
  int err = posix_spawnp(&pid, file, &fa, &attr, args, envp ? envp : environ);
  if (err != 0) {
    throw_errno(env, err, "spawn %s", file);
    goto out;
  }

  struct child *c = calloc(1, sizeof(*c));
  c->env = env;
  c->pid = pid;
  c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  if (c->pidfd < 0 || uv_poll_init(loop, &c->poll, c->pidfd) != 0) {
    // Without a pidfd nobody would reap it: kill it rather than leave a zombie and no exit event.
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (c->pidfd >= 0) close(c->pidfd);
    free(c);
    throw_errno(env, e, "pidfd_open");
    goto out;
  }
  c->poll.data = c;
  int started = uv_poll_start(&c->poll, UV_READABLE, child_exited);
  if (started != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(c->pidfd);
    uv_close((uv_handle_t *)&c->poll, child_closed);
    throw_errno(env, -started, "uv_poll_start on a pidfd");
    goto out;
  }
  napi_create_reference(env, argv[7], 1, &c->on_exit);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "weft.spawn", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &c->async);
  if (!keep_alive) uv_unref((uv_handle_t *)&c->poll);

  napi_create_array_with_length(env, nstdio + 1, &result);
  napi_value v;
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  for (uint32_t i = 0; i < nstdio; i++) {
    napi_create_int32(env, parent_end[i], &v);
    napi_set_element(env, result, i + 1, v);
    parent_end[i] = -1;  // handed over
  }

out:
  for (uint32_t i = 0; i < MAX_STDIO; i++) {
    if (src[i] >= 0) close(src[i]);
    if (parent_end[i] >= 0) close(parent_end[i]);
  }
  if (fa_init) posix_spawn_file_actions_destroy(&fa);
  if (attr_init) posix_spawnattr_destroy(&attr);
  free(file);
  free(cwd);
  free_vector(args);
  free_vector(envp);
  return result;
}

static napi_value do_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args_of(env, info, 5, argv, "mount(source, target, fstype, flags, data)")) return NULL;
  char *source = string_arg(env, argv[0], "source");
  char *target = source ? string_arg(env, argv[1], "target") : NULL;
  char *fstype = target ? string_arg(env, argv[2], "fstype") : NULL;
  char *data = fstype ? string_arg(env, argv[4], "data") : NULL;
  uint32_t flags = 0;
  if (data && napi_get_value_uint32(env, argv[3], &flags) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "flags must be a number");
  } else if (data && mount(source, target, fstype, flags, data) != 0) {
    throw_errno(env, errno, "mount %s on %s", fstype, target);
  }
  free(source);
  free(target);
  free(fstype);
  free(data);
  return NULL;
}

static napi_value do_umount2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv, "umount2(target, flags)")) return NULL;
  char *target = string_arg(env, argv[0], "target");
  if (!target) return NULL;
  int32_t flags = 0;
  napi_get_value_int32(env, argv[1], &flags);
  if (umount2(target, flags) != 0) {
    throw_errno(env, errno, "umount %s", target);
  }
  free(target);
  return NULL;
}

struct netns_job {
  const char *path;
  bool disable_ipv6;
  int err;
  const char *step;
};

/** Writes "1" to a /proc/sys file; a kernel without IPv6 has none, which is fine. */
static int write_one(const char *file) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  int err = write(fd, "1", 1) == 1 ? 0 : errno;
  close(fd);
  return err;
}

/** Runs in a thread of its own: unshare(CLONE_NEWNET) moves only the calling thread. */
static void *netns_thread(void *arg) {
  struct netns_job *j = arg;
  if (unshare(CLONE_NEWNET) != 0) {
    j->err = errno;
    j->step = "unshare(CLONE_NEWNET)";
    return NULL;
  }
  // /proc/sys/net is the opener's namespace: this thread's, now.
  if (j->disable_ipv6) {
    int e = write_one("/proc/sys/net/ipv6/conf/all/disable_ipv6");
    if (e == 0) e = write_one("/proc/sys/net/ipv6/conf/default/disable_ipv6");
    if (e != 0) {
      j->err = e;
      j->step = "turning IPv6 off in it";
      return NULL;
    }
  }
  char self[64];
  snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
  if (mount(self, j->path, "none", MS_BIND, NULL) != 0) {
    j->err = errno;
    j->step = "bind-mounting the new namespace";
  }
  return NULL;
}

/** As ip(8): the netns directory is made a shared mount point, so that its mounts propagate. */
static int netns_dir_shared(const char *dir, const char **step) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    *step = "creating the netns directory";
    return errno;
  }
  if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0) return 0;
  if (errno != EINVAL) {
    *step = "making the netns directory a shared mount";
    return errno;
  }
  // Not a mount point yet: bind it onto itself, then share it.
  if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) != 0 ||
      mount("", dir, "none", MS_SHARED | MS_REC, NULL) != 0) {
    *step = "making the netns directory a shared mount";
    return errno;
  }
  return 0;
}

static napi_value create_netns(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv, "createNetns(path, disableIpv6)")) return NULL;
  bool disable_ipv6 = false;
  napi_get_value_bool(env, argv[1], &disable_ipv6);
  char *path = string_arg(env, argv[0], "path");
  if (!path) return NULL;
  const char *step = NULL;
  char *slash = strrchr(path, '/');
  if (!slash || slash == path) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "createNetns(path): path must be DIR/NAME");
    free(path);
    return NULL;
  }
  *slash = 0;
  int err = netns_dir_shared(path, &step);
  *slash = '/';
  if (err == 0) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      step = "creating the namespace's file";
    } else {
      close(fd);
      struct netns_job job = {path, disable_ipv6, 0, NULL};
      pthread_t t;
      int e = pthread_create(&t, NULL, netns_thread, &job);
      if (e != 0) {
        job.err = e;
        job.step = "starting a thread";
      } else {
        pthread_join(t, NULL);
      }
      if (job.err != 0) {
        err = job.err;
        step = job.step;
        unlink(path);
      }
    }
  }
  if (err != 0) {
    throw_errno(env, err, "network namespace %s: %s", path, step);
  }
  free(path);
  return NULL;
}


// ---- A workload's veth and addresses over rtnetlink (what the two `ip -batch` runs did) ----

struct nlbuf {
  struct nlmsghdr h;
  char room[1024];
};

/** Appends an attribute; NULL when it does not fit. */
static struct rtattr *nl_put(struct nlbuf *m, int type, const void *data, size_t len) {
  size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
  size_t rlen = RTA_LENGTH(len);
  if (off + RTA_ALIGN(rlen) > sizeof(*m)) return NULL;
  struct rtattr *rta = (struct rtattr *)((char *)m + off);
  rta->rta_type = type;
  rta->rta_len = rlen;
  if (len) memcpy(RTA_DATA(rta), data, len);
  m->h.nlmsg_len = off + RTA_ALIGN(rlen);
  return rta;
}

static void nl_end_nest(struct nlbuf *m, struct rtattr *nest) {
  nest->rta_len = (char *)m + m->h.nlmsg_len - (char *)nest;
}

static void nl_init(struct nlbuf *m, int type, int flags, const void *hdr, size_t hdr_len) {
  memset(m, 0, sizeof(*m));
  m->h.nlmsg_len = NLMSG_LENGTH(hdr_len);
  m->h.nlmsg_type = type;
  m->h.nlmsg_flags = NLM_F_REQUEST | flags;
  memcpy(NLMSG_DATA(&m->h), hdr, hdr_len);
}

/** Sends a request and waits for its answer: 0 or an errno; `ifindex` (if given) from a link reply. */
static int nl_talk(int fd, struct nlbuf *m, int *ifindex) {
  static uint32_t seq;
  m->h.nlmsg_seq = ++seq;
  if (!ifindex) m->h.nlmsg_flags |= NLM_F_ACK;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) return errno;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (struct nlmsghdr *r = (struct nlmsghdr *)buf; NLMSG_OK(r, (size_t)n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_seq != m->h.nlmsg_seq) continue;
      if (r->nlmsg_type == NLMSG_ERROR) return -((struct nlmsgerr *)NLMSG_DATA(r))->error;
      if (ifindex && r->nlmsg_type == RTM_NEWLINK) {
        *ifindex = ((struct ifinfomsg *)NLMSG_DATA(r))->ifi_index;
        return 0;
      }
    }
  }
}

static int nl_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct sockaddr_nl me = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/** Sets a link up (by index, or by name when index is 0), optionally with a master. */
static int nl_link_up(int fd, int index, const char *name, int master) {
  struct ifinfomsg ifi = {
      .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  struct nlbuf m;
  nl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
  if (!index && !nl_put(&m, IFLA_IFNAME, name, strlen(name) + 1)) return E2BIG;
  if (master && !nl_put(&m, IFLA_MASTER, &master, sizeof(master))) return E2BIG;
  return nl_talk(fd, &m, NULL);
}

struct wiring {
  int nsfd;
  struct in_addr address, gateway;
  int prefix;
  int err;
  const char *step;
};

/** Inside the netns (this thread joins it): lo up, eth0's address, eth0 up, the default route. */
static void *wire_inside(void *arg) {
  struct wiring *w = arg;
  int fd = -1;
#define FAIL(e, what)   \
  do {                  \
    w->err = (e);       \
    w->step = (what);   \
    goto done;          \
  } while (0)
  if (setns(w->nsfd, CLONE_NEWNET) != 0) FAIL(errno, "entering the namespace");
  fd = nl_socket();
  if (fd < 0) FAIL(-fd, "opening a netlink socket in the namespace");
  int e = nl_link_up(fd, 0, "lo", 0);
  if (e) FAIL(e, "link set dev lo up");
  struct ifinfomsg q = {.ifi_family = AF_UNSPEC};
  struct nlbuf m;
  nl_init(&m, RTM_GETLINK, 0, &q, sizeof(q));
  nl_put(&m, IFLA_IFNAME, "eth0", 5);
  int eth0 = 0;
  e = nl_talk(fd, &m, &eth0);
  if (e) FAIL(e, "finding eth0");
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = w->prefix, .ifa_index = eth0};
  nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
  nl_put(&m, IFA_LOCAL, &w->address, 4);
  nl_put(&m, IFA_ADDRESS, &w->address, 4);
  e = nl_talk(fd, &m, NULL);
  if (e) FAIL(e, "addr add on eth0");
  e = nl_link_up(fd, eth0, NULL, 0);
  if (e) FAIL(e, "link set dev eth0 up");
  struct rtmsg rt = {.rtm_family = AF_INET,
                     .rtm_table = RT_TABLE_MAIN,
                     .rtm_protocol = RTPROT_BOOT,
                     .rtm_scope = RT_SCOPE_UNIVERSE,
                     .rtm_type = RTN_UNICAST};
  nl_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof(rt));
  nl_put(&m, RTA_GATEWAY, &w->gateway, 4);
  nl_put(&m, RTA_OIF, &eth0, sizeof(eth0));
  e = nl_talk(fd, &m, NULL);
  if (e) FAIL(e, "route add default via the gateway");
#undef FAIL
done:
  if (fd >= 0) close(fd);
  return NULL;
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned int b[6];
  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) {
    if (b[i] > 255) return -1;
    mac[i] = (unsigned char)b[i];
  }
  return 0;
}

static napi_value wire_workload(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  const char *usage = "wireWorkload(netnsPath, hostVeth, bridge, mac, address, prefixLength, gateway)";
  if (!args_of(env, info, 7, argv, usage)) return NULL;
  struct wiring w = {.nsfd = -1};
  char *strs[6] = {NULL};
  const int idx[6] = {0, 1, 2, 3, 4, 6};
  const char *names[6] = {"netnsPath", "hostVeth", "bridge", "mac", "address", "gateway"};
  for (int i = 0; i < 6; i++) {
    strs[i] = string_arg(env, argv[idx[i]], names[i]);
    if (!strs[i]) goto out;
  }
  int32_t prefix = -1;
  napi_get_value_int32(env, argv[5], &prefix);
  const char *netns = strs[0], *veth = strs[1], *bridge = strs[2];
  w.prefix = prefix;
  unsigned char mac[6];
  if (prefix < 1 || prefix > 30 || strlen(veth) >= IFNAMSIZ || parse_mac(strs[3], mac) != 0 ||
      inet_pton(AF_INET, strs[4], &w.address) != 1 || inet_pton(AF_INET, strs[5], &w.gateway) != 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "wireWorkload: a bad name, MAC, address or prefix length");
    goto out;
  }
  int master = (int)if_nametoindex(bridge);
  if (!master) {
    throw_errno(env, errno, "bridge %s", bridge);
    goto out;
  }
  w.nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (w.nsfd < 0) {
    throw_errno(env, errno, "%s", netns);
    goto out;
  }
  int fd = nl_socket();
  if (fd < 0) {
    throw_errno(env, -fd, "opening a netlink socket");
    goto out;
  }
  // link add name VETH type veth peer name eth0 address MAC netns NETNS
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nlbuf m;
  nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
  nl_put(&m, IFLA_IFNAME, veth, strlen(veth) + 1);
  struct rtattr *linkinfo = nl_put(&m, IFLA_LINKINFO, NULL, 0);
  nl_put(&m, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nl_put(&m, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = nl_put(&m, VETH_INFO_PEER, NULL, 0);
  // The peer's attributes follow an ifinfomsg of its own.
  m.h.nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
  nl_put(&m, IFLA_IFNAME, "eth0", 5);
  nl_put(&m, IFLA_ADDRESS, mac, 6);
  nl_put(&m, IFLA_NET_NS_FD, &w.nsfd, sizeof(w.nsfd));
  nl_end_nest(&m, peer);
  nl_end_nest(&m, data);
  nl_end_nest(&m, linkinfo);
  int e = nl_talk(fd, &m, NULL);
  if (e) {
    close(fd);
    throw_errno(env, e, "link add %s type veth peer eth0 in %s", veth, netns);
    goto out;
  }
  // link set dev VETH master BRIDGE up
  e = nl_link_up(fd, 0, veth, master);
  close(fd);
  if (e) {
    throw_errno(env, e, "link set dev %s master %s up", veth, bridge);
    goto out;
  }
  pthread_t t;
  e = pthread_create(&t, NULL, wire_inside, &w);
  if (e) {
    throw_errno(env, e, "starting a thread");
    goto out;
  }
  pthread_join(t, NULL);
  if (w.err) {
    throw_errno(env, w.err, "inside %s: %s", netns, w.step);
  }
out:
  if (w.nsfd >= 0) close(w.nsfd);
  for (int i = 0; i < 6; i++) free(strs[i]);
  return NULL;
}

static napi_value open_beneath(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  if (!args_of(env, info, 2, argv, "openBeneath(root, rel)")) return NULL;
  char *root = string_arg(env, argv[0], "root");
  char *rel = root ? string_arg(env, argv[1], "rel") : NULL;
  if (!rel) goto out;
  int dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    throw_errno(env, errno, "open %s", root);
    goto out;
  }
  struct open_how how = {
      .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  int fd;
  do {
    // EAGAIN: a rename elsewhere on the file system raced the lookup; the kernel asks to retry.
    fd = (int)syscall(SYS_openat2, dirfd, rel[0] ? rel : ".", &how, sizeof(how));
  } while (fd < 0 && errno == EAGAIN);
  int err = errno;
  close(dirfd);
  if (fd < 0) {
    throw_errno(env, err, "open %s beneath %s", rel, root);
    goto out;
  }
  napi_create_int32(env, fd, &result);
out:
  free(root);
  free(rel);
  return result;
}

static napi_value do_mknod(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args_of(env, info, 4, argv, "mknod(path, mode, major, minor)")) return NULL;
  char *path = string_arg(env, argv[0], "path");
  if (!path) return NULL;
  uint32_t mode = 0, major = 0, minor = 0;
  if (napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &major) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &minor) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "mode, major and minor must be numbers");
  } else if (mknod(path, mode, makedev(major, minor)) != 0) {
    throw_errno(env, errno, "mknod %s", path);
  } else {
    // The umask took bits off: the mode is set again on what was made, never through a symlink
    // put at the name meanwhile (chmod of an O_PATH descriptor's /proc/self/fd link, as glibc's
    // fchmodat(AT_SYMLINK_NOFOLLOW) does).
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char self[64];
    if (fd < 0 || fstat(fd, &st) != 0) {
      throw_errno(env, errno, "open %s", path);
    } else if ((st.st_mode & S_IFMT) != (mode & S_IFMT)) {
      throw_errno(env, EEXIST, "mknod %s: replaced meanwhile", path);
    } else {
      snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
      if (chmod(self, mode & 07777) != 0) throw_errno(env, errno, "chmod %s", path);
    }
    if (fd >= 0) close(fd);
  }
  free(path);
  return NULL;
}

static napi_value do_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  if (!args_of(env, info, 2, argv, "lgetxattr(path, name)")) return NULL;
  char *path = string_arg(env, argv[0], "path");
  char *name = path ? string_arg(env, argv[1], "name") : NULL;
  if (!name) goto out;
  char value[4096];
  ssize_t n = lgetxattr(path, name, value, sizeof(value));
  if (n >= 0) {
    void *data;
    napi_create_buffer_copy(env, (size_t)n, value, &data, &result);
  } else if (errno == ENODATA || errno == ENOTSUP) {
    napi_get_null(env, &result);
  } else {
    throw_errno(env, errno, "lgetxattr %s %s", path, name);
  }
out:
  free(path);
  free(name);
  return result;
}

static napi_value set_winsize(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args_of(env, info, 3, argv, "setWinsize(ttyPath, rows, cols)")) return NULL;
  char *path = string_arg(env, argv[0], "ttyPath");
  if (!path) return NULL;
  uint32_t rows = 0, cols = 0;
  if (napi_get_value_uint32(env, argv[1], &rows) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &cols) != napi_ok || rows > 65535 || cols > 65535) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "rows and cols must be numbers from 0 to 65535");
    free(path);
    return NULL;
  }
  // O_NOCTTY: the daemon must not take the terminal as its own controlling one.
  int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (fd < 0) {
    throw_errno(env, errno, "open %s", path);
  } else if (!isatty(fd)) {
    throw_errno(env, ENOTTY, "%s", path);
  } else if (ioctl(fd, TIOCSWINSZ, &ws) != 0) {
    throw_errno(env, errno, "TIOCSWINSZ %s", path);
  }
  if (fd >= 0) close(fd);
  free(path);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawn", NULL, spawn, NULL, NULL, NULL, napi_default, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount2", NULL, do_umount2, NULL, NULL, NULL, napi_default, NULL},
      {"createNetns", NULL, create_netns, NULL, NULL, NULL, napi_default, NULL},
      {"wireWorkload", NULL, wire_workload, NULL, NULL, NULL, napi_default, NULL},
      {"openBeneath", NULL, open_beneath, NULL, NULL, NULL, napi_default, NULL},
      {"mknod", NULL, do_mknod, NULL, NULL, NULL, napi_default, NULL},
      {"lgetxattr", NULL, do_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
      {"setWinsize", NULL, set_winsize, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
