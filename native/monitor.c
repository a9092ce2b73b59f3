// berth-monitor: one small process per running container, in the role of
// containerd-shim / conmon. It runs the OCI runtime (`run --detach`, one process; or
// `create`, then `start` when asked with --wait-start), owns the container's stdio,
// writes its log (log-writer.c: json-file or local, rotated), reaps the container,
// records its exit status in a file and then has the runtime delete the container. It
// does not depend on berthd, which may be killed and restarted while the container runs:
// berthd talks to it over unix sockets (fd 3 at spawn, --socket afterwards) with a
// framed protocol:
// 1 byte type, 4 bytes big-endian payload length, payload.
//
// Monitor -> client: 'o' stdout data, 'e' stderr data, 'C' created (pid),
//                    'S' started, 'F' failed ("create N" / "start N"), 'X' exited (code),
//                    'T' the exit's time (RFC 3339, as in the exit file; just before 'X'),
//                    'O' the kernel OOM-killed a process of the container (before 'T').
// Client -> monitor: 'i' stdin data, 'c' close stdin, 'r' resize ("ROWS COLS"), 'S' start,
//                    'K' signal the process ("N"; what --exec runs has no runtime kill),
//                    'q' send me no 'o'/'e' frames (the log has them), 'v' send them again.
//
// With --exec PROCESS_JSON it runs `runtime exec --detach` in a running container
// instead: same stdio, frames and exit file, no log unless asked, and no delete.
//
// Memory stays bounded: fixed tables and buffers, except the per-client output
// queues (bounded by backpressure on the container's pipes) and the stdin queue
// (bounded by not reading clients while it is full).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log-writer.h"

#define MAX_CLIENTS 64
#define FRAME_MAX ((uint32_t)1 << 20)    // largest payload a client may send
#define QUEUE_HIGH ((size_t)1 << 20)     // a client queue above this pauses the container's output
#define QUEUE_KEEP ((size_t)256 << 10)   // an emptied queue keeps its buffer up to this size
#define STDIN_HIGH ((size_t)64 << 10)    // stop reading clients while this much stdin waits
#define CHUNK ((size_t)32 << 10)         // one read from a pipe or a client
#define LINE_MAX_LEN ((size_t)16 << 10)  // Docker splits log lines longer than this
#define HOLD_MAX ((size_t)4 << 10)       // output kept per stream while the runtime's create/run runs
#define DRAIN_MS 1000                    // how long pipes may stay open after the exit
#define FLUSH_MS 2000                    // how long clients get to take their last frames
#define EARLY_MAX 16                     // children reaped before the container pid was known

// ---------------------------------------------------------------------------
// Options

static struct {
  const char *id, *bundle, *runtime, *runtime_root, *runtime_log, *pid_file;
  const char *socket, *exit_file, *log_path;
  const char *log_driver, *log_max_size, *log_max_file, *log_attrs;  // see log-writer.h
  int log_compress;
  const char *exec_process;  // --exec: run this process.json in the running container
  int stdin_, tty, wait_start;
} opt;

static void usage(const char *why) {
  fprintf(stderr, "berth-monitor: %s\n", why);
  exit(2);
}

static void parse_args(int argc, char **argv) {
  static const struct { const char *name; const char **dst; } vals[] = {
      {"--id", &opt.id},
      {"--bundle", &opt.bundle},
      {"--runtime", &opt.runtime},
      {"--runtime-root", &opt.runtime_root},
      {"--runtime-log", &opt.runtime_log},
      {"--pid-file", &opt.pid_file},
      {"--socket", &opt.socket},
      {"--exit-file", &opt.exit_file},
      {"--log-path", &opt.log_path},
      {"--log-driver", &opt.log_driver},
      {"--log-max-size", &opt.log_max_size},
      {"--log-max-file", &opt.log_max_file},
      {"--log-attrs", &opt.log_attrs},
      {"--exec", &opt.exec_process},
  };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--stdin") == 0) { opt.stdin_ = 1; continue; }
    if (strcmp(a, "--tty") == 0) { opt.tty = 1; continue; }
    if (strcmp(a, "--wait-start") == 0) { opt.wait_start = 1; continue; }
    if (strcmp(a, "--log-compress") == 0) { opt.log_compress = 1; continue; }
    size_t k;
    for (k = 0; k < sizeof vals / sizeof vals[0]; k++)
      if (strcmp(a, vals[k].name) == 0) break;
    if (k == sizeof vals / sizeof vals[0]) usage("unknown option");
    if (i + 1 >= argc) usage("option needs a value");
    *vals[k].dst = argv[++i];
  }
  if (!opt.id || !(opt.bundle || opt.exec_process) || !opt.runtime || !opt.pid_file || !opt.socket || !opt.exit_file)
    usage("required: --id --bundle|--exec --runtime --pid-file --socket --exit-file");
  if (opt.exec_process && opt.wait_start) usage("--exec runs at once: no --wait-start");
}

// ---------------------------------------------------------------------------
// Small helpers

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// RFC 3339 UTC with nanoseconds, as Docker writes in its logs.
static void format_time(const struct timespec *ts, char out[48]) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  size_t n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 48 - n, ".%09ldZ", (long)ts->tv_nsec);
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// A growable byte queue. Only ever as large as the limits around it allow.
struct queue {
  unsigned char *data;
  size_t head, len, cap;
};

static int queue_push(struct queue *q, const void *p, size_t n) {
  if (q->head + q->len + n > q->cap) {
    if (q->head > 0) {
      memmove(q->data, q->data + q->head, q->len);
      q->head = 0;
    }
    if (q->len + n > q->cap) {
      size_t cap = q->cap ? q->cap : 4096;
      while (cap < q->len + n) cap *= 2;
      unsigned char *d = realloc(q->data, cap);
      if (!d) return -1;
      q->data = d;
      q->cap = cap;
    }
  }
  memcpy(q->data + q->head + q->len, p, n);
  q->len += n;
  return 0;
}

static void queue_pop(struct queue *q, size_t n) {
  q->head += n;
  q->len -= n;
  if (q->len == 0) {
    q->head = 0;
    if (q->cap > QUEUE_KEEP) {
      free(q->data);
      q->data = NULL;
      q->cap = 0;
    }
  }
}

static void queue_clear(struct queue *q) {
  free(q->data);
  memset(q, 0, sizeof *q);
}

// ---------------------------------------------------------------------------
// State

struct client {
  int fd;                // -1: free slot
  int write_dead;        // its socket refused a write: keep reading what it sent, send nothing
  int quiet;             // asked for no output frames ('q'): berthd while nobody is attached
  struct queue out;
  unsigned char hdr[5];  // frame header being read
  unsigned hdr_got;
  unsigned char type;
  uint32_t left;         // payload bytes still to come for the current frame
  char arg[64];          // payload of small control frames
  unsigned arg_len;
};

struct stream {
  int fd;                // our read end; -1 at EOF
  const char *name;      // log "stream" field
  char frame;            // frame type for clients
  unsigned char line[LINE_MAX_LEN];
  size_t line_len;
  unsigned char held[HOLD_MAX];  // read while create/run ran: not yet known to be the container's
  size_t held_len;
};

static struct client clients[MAX_CLIENTS];
static struct stream streams[2] = {{.fd = -1, .name = "stdout", .frame = 'o'},
                                   {.fd = -1, .name = "stderr", .frame = 'e'}};
static unsigned char scratch[CHUNK];
static int logging;  // --log-path given and opened: log-writer.c writes the log

static int sig_fd = -1, listen_fd = -1, devnull = -1;
static int console_listen_fd = -1, console_conn_fd = -1, master_fd = -1;
static char *console_path;        // what runc gets as --console-socket
static int console_path_is_file;  // 0: abstract socket, nothing to unlink
static int stdin_fd = -1;         // write end of the container's stdin pipe
static int stdin_close_pending;
static struct queue stdin_q;
static int stdin_open;            // 'i' data still has somewhere to go
static struct winsize pending_ws;
static int have_pending_ws;

static pid_t create_pid = -1, start_pid = -1, container_pid;
static int create_status, start_status, create_reaped, start_reaped;
static int created, started, start_requested;
// `run --detach` instead of `create` + `start`: one runtime process less on the way to a
// running container. The container may write before the runtime exits, so what the
// pipes hold then is kept back (and the pipes left unread once the hold is full) until
// the runtime's exit status tells whose text it was: the container's on success, the
// runtime's error on failure (discarded: the runtime's --log carries it to berthd).
static int run_mode;
static int exited, exit_status;
static struct timespec exit_time;
static long long drain_deadline;
static struct { pid_t pid; int status; struct timespec when; } early[EARLY_MAX];
static unsigned early_next;

// ---------------------------------------------------------------------------
// Clients

static void drop_client(struct client *c) {
  close(c->fd);
  c->fd = -1;
  queue_clear(&c->out);
}

static void client_flush(struct client *c) {
  while (c->out.len > 0) {
    ssize_t n = send(c->fd, c->out.data + c->out.head, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      c->write_dead = 1;
      queue_clear(&c->out);
      return;
    }
    queue_pop(&c->out, (size_t)n);
  }
}

static void send_frame(struct client *c, char type, const void *payload, size_t n) {
  if (c->fd < 0 || c->write_dead) return;
  unsigned char hdr[5] = {(unsigned char)type, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
  size_t sent = 0, total = n + 5;
  if (c->out.len == 0) {
    // Nothing queued: try the socket first so the common case copies nothing.
    struct iovec iov[2] = {{hdr, 5}, {(void *)payload, n}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};
    ssize_t w;
    do w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      c->write_dead = 1;
      return;
    }
    if (w > 0) sent = (size_t)w;
    if (sent == total) return;
  }
  int err = 0;
  if (sent < 5) err = queue_push(&c->out, hdr + sent, 5 - sent);
  size_t off = sent > 5 ? sent - 5 : 0;
  if (!err && n > off) err = queue_push(&c->out, (const unsigned char *)payload + off, n - off);
  if (err) {
    c->write_dead = 1;  // out of memory: this client loses its stream
    queue_clear(&c->out);
  }
}

static void broadcast(char type, const void *payload, size_t n) {
  int output = type == 'o' || type == 'e';
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (!(output && clients[i].quiet)) send_frame(&clients[i], type, payload, n);
}

static void send_text(struct client *c, char type, const char *text) {
  send_frame(c, type, text, strlen(text));
}

static void broadcast_text(char type, const char *text) {
  broadcast(type, text, strlen(text));
}

static int add_client(int fd) {
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd >= 0) continue;
    memset(&clients[i], 0, sizeof clients[i]);
    clients[i].fd = fd;
    return i;
  }
  close(fd);
  return -1;
}

static void greet(struct client *c) {
  if (created) {
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)container_pid);
    send_text(c, 'C', pid);
  }
  if (started) send_text(c, 'S', "");
}

static int output_paused(int exited_already) {
  // Once the container is gone its pipes hold a bounded remainder: take it within the
  // drain second rather than lose it to a slow client, up to a larger limit.
  size_t high = exited_already ? QUEUE_HIGH * 4 : QUEUE_HIGH;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && !clients[i].write_dead && clients[i].out.len > high) return 1;
  return 0;
}

// ---------------------------------------------------------------------------
// Container stdin (a pipe, or the pty master with --tty)

static int stdin_target(void) { return opt.tty ? master_fd : stdin_fd; }

static void stdin_discard(void) {
  queue_clear(&stdin_q);
  stdin_open = 0;
  if (stdin_fd >= 0) {
    close(stdin_fd);
    stdin_fd = -1;
  }
}

static void stdin_flush(void) {
  int fd = stdin_target();
  while (fd >= 0 && stdin_q.len > 0) {
    ssize_t n = write(fd, stdin_q.data + stdin_q.head, stdin_q.len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      stdin_discard();  // the container closed its end
      return;
    }
    queue_pop(&stdin_q, (size_t)n);
  }
  if (stdin_close_pending && stdin_q.len == 0 && stdin_fd >= 0) {
    close(stdin_fd);
    stdin_fd = -1;
  }
}

static void stdin_push(const unsigned char *p, size_t n) {
  if (!stdin_open || stdin_close_pending) return;
  if (queue_push(&stdin_q, p, n) < 0) return;
  stdin_flush();
}

static void apply_resize(void) {
  if (master_fd >= 0 && have_pending_ws) ioctl(master_fd, TIOCSWINSZ, &pending_ws);
}

// ---------------------------------------------------------------------------
// Client input

static void dispatch(struct client *c) {
  c->arg[c->arg_len] = 0;
  switch (c->type) {
    case 'c':
      if (!opt.tty && stdin_open) {
        stdin_close_pending = 1;
        stdin_flush();
      }
      break;
    case 'r': {
      unsigned rows, cols;
      if (sscanf(c->arg, "%u %u", &rows, &cols) == 2 && rows <= USHRT_MAX && cols <= USHRT_MAX) {
        pending_ws.ws_row = (unsigned short)rows;
        pending_ws.ws_col = (unsigned short)cols;
        have_pending_ws = 1;
        apply_resize();
      }
      break;
    }
    case 'S':
      start_requested = 1;
      break;
    case 'q':
    case 'v':
      c->quiet = c->type == 'q';
      break;
    case 'K': {
      // Only while unreaped: our child (or zombie) until then, so the pid is still its own.
      int sig = atoi(c->arg);
      if (sig > 0 && sig < 65 && created && !exited && container_pid > 0) kill(container_pid, sig);
      break;
    }
    default:  // 'i' was consumed as it arrived; unknown types are ignored
      break;
  }
}

// Returns -1 when the client broke the protocol.
static int client_input(struct client *c, const unsigned char *p, size_t n) {
  while (n > 0) {
    if (c->hdr_got < 5) {
      size_t k = 5 - c->hdr_got < n ? 5 - c->hdr_got : n;
      memcpy(c->hdr + c->hdr_got, p, k);
      c->hdr_got += (unsigned)k;
      p += k;
      n -= k;
      if (c->hdr_got < 5) break;
      c->type = c->hdr[0];
      c->left = (uint32_t)c->hdr[1] << 24 | (uint32_t)c->hdr[2] << 16 | (uint32_t)c->hdr[3] << 8 | c->hdr[4];
      c->arg_len = 0;
      if (c->left > FRAME_MAX) return -1;
    } else {
      size_t k = c->left < n ? c->left : n;
      if (c->type == 'i') {
        stdin_push(p, k);
      } else {
        size_t room = sizeof c->arg - 1 - c->arg_len;
        size_t keep = k < room ? k : room;
        memcpy(c->arg + c->arg_len, p, keep);
        c->arg_len += (unsigned)keep;
      }
      c->left -= (uint32_t)k;
      p += k;
      n -= k;
    }
    if (c->hdr_got == 5 && c->left == 0) {
      dispatch(c);
      c->hdr_got = 0;
    }
  }
  return 0;
}

static void client_read(struct client *c) {
  ssize_t n = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0 || client_input(c, scratch, (size_t)n) < 0) drop_client(c);
}

// ---------------------------------------------------------------------------
// Container output: frames to clients and the log

// One log message: a whole line, or a piece of one (see log_message in log-writer.c).
static void log_line(const struct stream *s, const unsigned char *p, size_t n, int complete) {
  if (logging && n > 0) log_message(s == &streams[1], p, n, complete);
}

// Cuts the output into lines; a line longer than LINE_MAX_LEN goes out in pieces, as
// Docker's copier cuts it.
static void log_data(struct stream *s, const unsigned char *p, size_t n) {
  if (!logging) return;
  while (n > 0) {
    const unsigned char *nl = memchr(p, '\n', n);
    size_t seg = nl ? (size_t)(nl - p) + 1 : n;
    size_t room = LINE_MAX_LEN - s->line_len;
    size_t k = seg < room ? seg : room;
    int complete = nl && k == seg;
    if (s->line_len == 0 && (complete || k == LINE_MAX_LEN)) {
      log_line(s, p, k, complete);  // whole line in this chunk: no copy
    } else {
      memcpy(s->line + s->line_len, p, k);
      s->line_len += k;
      if (complete || s->line_len == LINE_MAX_LEN) {
        log_line(s, s->line, s->line_len, complete);
        s->line_len = 0;
      }
    }
    p += k;
    n -= k;
  }
}

// The unterminated end of a stream goes out as a partial message.
static void log_flush(struct stream *s) {
  if (s->line_len == 0) return;
  log_line(s, s->line, s->line_len, 0);
  s->line_len = 0;
  if (logging) log_sync();
}

static void deliver(struct stream *s, const unsigned char *p, size_t n) {
  log_data(s, p, n);
  if (logging) log_sync();
  broadcast(s->frame, p, n);
}

static void stream_eof(struct stream *s) {
  if (s->fd >= 0 && s->fd == master_fd) {
    master_fd = -1;
    stdin_discard();  // the terminal is gone, and input with it
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (created) log_flush(s);
}

// One read; returns 1 when data came, 0 otherwise.
static int stream_read(struct stream *s) {
  unsigned char *buf = scratch;
  size_t cap = sizeof scratch;
  if (!created && run_mode) {
    buf = s->held + s->held_len;  // nothing may be dropped: it can be the container's
    cap = HOLD_MAX - s->held_len;
    if (cap == 0) return 0;
  }
  ssize_t n = read(s->fd, buf, cap);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n <= 0) {  // EOF, or EIO from a pty master whose slave is gone
    stream_eof(s);
    return 0;
  }
  if (created) {
    deliver(s, scratch, (size_t)n);
  } else if (run_mode) {
    s->held_len += (size_t)n;
  } else {
    // While `create` runs, this is the runtime talking, not the container.
    size_t k = HOLD_MAX - s->held_len < (size_t)n ? HOLD_MAX - s->held_len : (size_t)n;
    memcpy(s->held + s->held_len, scratch, k);
    s->held_len += k;
  }
  return 1;
}

static int streams_done(void) { return streams[0].fd < 0 && streams[1].fd < 0; }

// ---------------------------------------------------------------------------
// Sockets

// Fills a unix address; a path too long for sun_path is reached through its directory's fd.
static socklen_t unix_addr(const char *path, struct sockaddr_un *sa, int *dir_fd) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dir_fd = -1;
  if (path[0] == '@') {  // abstract, as Go spells it
    size_t n = strlen(path);
    if (n > sizeof sa->sun_path) return 0;
    memcpy(sa->sun_path + 1, path + 1, n - 1);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  }
  if (strlen(path) < sizeof sa->sun_path) {
    strcpy(sa->sun_path, path);
  } else {
    const char *slash = strrchr(path, '/');
    if (!slash) return 0;
    char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir) return 0;
    *dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (*dir_fd < 0) return 0;
    int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
    if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
      close(*dir_fd);
      *dir_fd = -1;
      return 0;
    }
  }
  return (socklen_t)sizeof *sa;
}

static int listen_on(const char *path) {
  struct sockaddr_un sa;
  int dir_fd;
  socklen_t len = unix_addr(path, &sa, &dir_fd);
  if (len == 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (path[0] != '@') unlink(path);  // stale socket from an earlier run
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) goto fail;
  mode_t old = umask(0177);  // 0600 from birth: no window where others can connect
  int r = bind(fd, (struct sockaddr *)&sa, len);
  umask(old);
  if (r < 0 || listen(fd, 16) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    fd = -1;
  }
fail:
  if (dir_fd >= 0) close(dir_fd);
  return fd;
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int i = add_client(fd);
    if (i >= 0) greet(&clients[i]);
  }
}

// Closes the --console-socket (over which runc hands the pty master) and runc's connection to it.
static void close_console_socket(void) {
  if (console_listen_fd >= 0) {
    close(console_listen_fd);
    console_listen_fd = -1;
    if (console_path_is_file) unlink(console_path);
  }
  if (console_conn_fd >= 0) {
    close(console_conn_fd);
    console_conn_fd = -1;
  }
}

static void close_listeners(void) {
  if (listen_fd >= 0) {
    close(listen_fd);
    listen_fd = -1;
    unlink(opt.socket);
  }
  close_console_socket();
}

// ---------------------------------------------------------------------------
// The pty, with --tty: runc sends its master over --console-socket.

static void console_accept(void) {
  for (;;) {
    int fd = accept4(console_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    // Only the `create` we ran may hand us the container's terminal.
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (console_conn_fd >= 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
        cred.pid != create_pid) {
      close(fd);
      continue;
    }
    console_conn_fd = fd;
  }
}

static void console_receive(void) {
  char name[256];
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  struct iovec iov = {name, sizeof name};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t n = recvmsg(console_conn_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) {
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      int fd;
      memcpy(&fd, CMSG_DATA(h), sizeof fd);
      if (master_fd >= 0) {
        close(fd);
        continue;
      }
      master_fd = fd;
      set_nonblock(fd);
      streams[0].fd = fd;
      apply_resize();
    }
    if (master_fd < 0) return;  // text without a descriptor: wait for more
  }
  close(console_conn_fd);
  console_conn_fd = -1;
}

// ---------------------------------------------------------------------------
// Running the OCI runtime

static pid_t spawn(char *const argv[], int in, int out, int err) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: dup2 clears close-on-exec; ignored signals and the blocked mask
  // would otherwise leak through exec into the container's process.
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  execv(argv[0], argv);
  _exit(127);
}

// RUNTIME [--root R] [--log L --log-format json] — the part every command shares.
static int runtime_argv(char **argv, int with_log) {
  int n = 0;
  argv[n++] = (char *)opt.runtime;
  if (opt.runtime_root) {
    argv[n++] = "--root";
    argv[n++] = (char *)opt.runtime_root;
  }
  if (with_log && opt.runtime_log) {
    argv[n++] = "--log";
    argv[n++] = (char *)opt.runtime_log;
    argv[n++] = "--log-format";
    argv[n++] = "json";
  }
  return n;
}

static void run_delete(void) {
  if (opt.exec_process) return;  // an exec's container goes on running: not ours to delete
  char *argv[16];
  int n = runtime_argv(argv, 0);
  argv[n++] = "delete";
  argv[n++] = "--force";
  argv[n++] = (char *)opt.id;
  argv[n] = NULL;
  pid_t pid = spawn(argv, devnull, devnull, devnull);
  if (pid < 0) return;
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
}

static void flush_clients(int ms) {
  long long deadline = now_ms() + ms;
  for (;;) {
    struct pollfd pfd[MAX_CLIENTS];
    int map[MAX_CLIENTS], n = 0;
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = &clients[i];
      if (c->fd < 0 || c->write_dead || c->out.len == 0) continue;
      pfd[n].fd = c->fd;
      pfd[n].events = POLLOUT;
      map[n++] = i;
    }
    long long left = deadline - now_ms();
    if (n == 0 || left <= 0) return;
    if (poll(pfd, (nfds_t)n, (int)left) < 0 && errno != EINTR) return;
    for (int k = 0; k < n; k++)
      if (pfd[k].revents) client_flush(&clients[map[k]]);
  }
}

static void reaped(pid_t pid, int status);

// Children left as zombies when we exit would go to an init that may not reap them.
static void reap_container(int ms) {
  long long deadline = now_ms() + ms;
  for (;;) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) reaped(pid, status);
    long long left = deadline - now_ms();
    if (container_pid <= 0 || exited || pid < 0 || left <= 0) return;
    struct pollfd p = {.fd = sig_fd, .events = POLLIN};
    poll(&p, 1, (int)left);
  }
}

// Failure of create or start: tell the clients and leave without an exit file.
static void fail(const char *stage, int code, int delete) {
  char msg[32];
  snprintf(msg, sizeof msg, "%s %d", stage, code);
  broadcast_text('F', msg);
  if (delete) {
    run_delete();
    reap_container(FLUSH_MS);
  }
  close_listeners();
  flush_clients(FLUSH_MS);
  exit(1);
}

static void run_create(void) {
  char *argv[24];
  int n = runtime_argv(argv, 1);
  if (opt.exec_process) {
    // Like `run --detach`: the process outlives the runtime and is reparented to us.
    argv[n++] = "exec";
    argv[n++] = "--detach";
    argv[n++] = "--process";
    argv[n++] = (char *)opt.exec_process;
  } else if (run_mode) {
    argv[n++] = "run";
    argv[n++] = "--detach";
  } else {
    argv[n++] = "create";
  }
  if (!opt.exec_process) {
    argv[n++] = "--bundle";
    argv[n++] = (char *)opt.bundle;
  }
  argv[n++] = "--pid-file";
  argv[n++] = (char *)opt.pid_file;
  if (opt.tty) {
    argv[n++] = "--console-socket";
    argv[n++] = console_path;
  }
  argv[n++] = (char *)opt.id;
  argv[n] = NULL;

  int child_in = devnull, child_out = devnull, child_err = devnull;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (!opt.tty) {
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) fail("create", 255, 0);
    if (opt.stdin_ && pipe2(in_pipe, O_CLOEXEC) < 0) fail("create", 255, 0);
    child_out = out_pipe[1];
    child_err = err_pipe[1];
    streams[0].fd = out_pipe[0];
    streams[1].fd = err_pipe[0];
    set_nonblock(out_pipe[0]);
    set_nonblock(err_pipe[0]);
    if (opt.stdin_) {
      child_in = in_pipe[0];
      stdin_fd = in_pipe[1];
      set_nonblock(stdin_fd);
      stdin_open = 1;
    }
  } else {
    stdin_open = opt.stdin_;  // 'i' goes to the pty master once runc hands it over
  }
  create_pid = spawn(argv, child_in, child_out, child_err);
  // Only the container may hold the write ends, or we would never see EOF.
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  if (create_pid < 0) fail("create", 255, 0);
}

static void run_start(void) {
  char *argv[16];
  int n = runtime_argv(argv, 1);
  argv[n++] = "start";
  argv[n++] = (char *)opt.id;
  argv[n] = NULL;
  start_pid = spawn(argv, devnull, devnull, devnull);
  if (start_pid < 0) fail("start", 255, 1);
}

static pid_t read_pid_file(void) {
  char buf[32];
  int fd = open(opt.pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *end;
  long pid = strtol(buf, &end, 10);
  return pid > 0 && pid <= INT_MAX ? (pid_t)pid : -1;
}

// ---------------------------------------------------------------------------
// Lifecycle

static void container_exited(int status, const struct timespec *when) {
  exited = 1;
  exit_status = status;
  exit_time = *when;
}

static void reaped(pid_t pid, int status) {
  if (log_reaped(pid)) return;  // the log's compressor
  if (pid == create_pid && !create_reaped) {
    create_reaped = 1;
    create_status = status;
  } else if (pid == start_pid && !start_reaped) {
    start_reaped = 1;
    start_status = status;
  } else {
    struct timespec when;
    clock_gettime(CLOCK_REALTIME, &when);
    if (container_pid > 0 && pid == container_pid) {
      container_exited(status, &when);
    } else if (container_pid == 0) {
      // Possibly the container, dying before we read its pid file.
      unsigned k = early_next++ % EARLY_MAX;
      early[k].pid = pid;
      early[k].status = status;
      early[k].when = when;
    }  // otherwise an orphan that was reparented to us: reaping it is all we owe it
  }
}

static void reap_all(void) {
  struct signalfd_siginfo si;
  while (read(sig_fd, &si, sizeof si) > 0) {}
  reap_container(0);
}

static void on_create_done(void) {
  // runc has exited, so all it wrote is in the pipes and all it sent on the console socket
  // is queued. After `run` the container may be writing too, so the pipes are not drained:
  // what follows the held text is the container's anyway.
  if (!run_mode)
    for (int i = 0; i < 2; i++)
      while (streams[i].fd >= 0 && stream_read(&streams[i])) {}
  if (console_listen_fd >= 0) {
    console_accept();
    if (console_conn_fd >= 0) console_receive();
  }
  close_console_socket();
  if (create_status != 0) fail("create", exit_code_of(create_status), 0);
  pid_t pid = read_pid_file();
  if (pid < 0) fail("create", 255, 1);
  container_pid = pid;
  created = 1;
  if (opt.tty && master_fd < 0) stdin_discard();  // no terminal came: nowhere for stdin to go
  char text[16];
  snprintf(text, sizeof text, "%d", (int)pid);
  broadcast_text('C', text);
  if (run_mode) {
    started = 1;
    broadcast_text('S', "");
  }
  for (int i = 0; i < 2; i++) {
    struct stream *s = &streams[i];
    if (s->held_len) deliver(s, s->held, s->held_len);
    s->held_len = 0;
    if (s->fd < 0) log_flush(s);
  }
  for (unsigned k = 0; k < EARLY_MAX; k++)
    if (early[k].pid == pid) container_exited(early[k].status, &early[k].when);
}

// The container's cgroup as config.json names it (linux.cgroupsPath; the cgroupfs driver's
// path under each hierarchy's root), into out; 0 when there is none we can use.
static int bundle_cgroup_path(char *out, size_t size) {
  if (!opt.bundle) return 0;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/config.json", opt.bundle) >= (int)sizeof path) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  char *buf = NULL;
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20) && (buf = malloc((size_t)st.st_size + 1)))
    n = read(fd, buf, (size_t)st.st_size);  // a regular file: one read returns it whole
  close(fd);
  int found = 0;
  if (n > 0) {
    buf[n] = 0;
    char *p = strstr(buf, "\"cgroupsPath\"");
    if (p) {
      p += strlen("\"cgroupsPath\"");
      while (*p == ' ' || *p == ':') p++;
      char *end = *p == '"' ? strchr(p + 1, '"') : NULL;
      // Absolute paths only: "slice:prefix:name" (systemd) and escapes are not ours to parse.
      if (end && p[1] == '/' && !memchr(p + 1, '\\', (size_t)(end - p - 1)) && (size_t)(end - p - 1) < size) {
        memcpy(out, p + 1, (size_t)(end - p - 1));
        out[end - p - 1] = 0;
        found = 1;
      }
    }
  }
  free(buf);
  return found;
}

// Whether the kernel OOM-killed anything in the container's cgroup: the oom_kill counter
// of memory.events (v2) or memory.oom_control (v1). Read after the exit and before the
// runtime's delete removes the cgroup.
static int oom_killed(void) {
  if (opt.exec_process) return 0;  // an exec shares the container's cgroup: not its to report
  char cg[PATH_MAX], path[PATH_MAX + 64], buf[512];
  if (!bundle_cgroup_path(cg, sizeof cg)) return 0;
  const long CGROUP2_SUPER_MAGIC = 0x63677270;
  struct statfs sf;
  int v2 = statfs("/sys/fs/cgroup", &sf) == 0 && (long)sf.f_type == CGROUP2_SUPER_MAGIC;
  snprintf(path, sizeof path, v2 ? "/sys/fs/cgroup%s/memory.events" : "/sys/fs/cgroup/memory%s/memory.oom_control", cg);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, "oom_kill ", 9) == 0) return strtoll(line + 9, NULL, 10) > 0;
  return 0;
}

static void write_exit_file(int code, int sig, int oom) {
  char ts[48], json[192];
  format_time(&exit_time, ts);
  int n = snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"%s}", code, sig, ts,
                   oom ? ",\"oomKilled\":true" : "");
  size_t plen = strlen(opt.exit_file);
  char *tmp = malloc(plen + 5);
  if (!tmp) return;
  memcpy(tmp, opt.exit_file, plen);
  memcpy(tmp + plen, ".tmp", 5);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    int bad = write_all(fd, json, (size_t)n);
    close(fd);
    if (bad || rename(tmp, opt.exit_file) < 0) unlink(tmp);
  }
  free(tmp);
}

static void finish(void) {
  for (int i = 0; i < 2; i++) log_flush(&streams[i]);
  int code = exit_code_of(exit_status);
  int sig = WIFSIGNALED(exit_status) ? WTERMSIG(exit_status) : 0;
  int oom = oom_killed();
  write_exit_file(code, sig, oom);
  close_listeners();  // from here a reconnecting berthd finds the exit file instead
  char text[16], ts[48];
  snprintf(text, sizeof text, "%d", code);
  format_time(&exit_time, ts);
  if (oom) broadcast_text('O', "");
  broadcast_text('T', ts);  // spares berthd reading the exit file
  broadcast_text('X', text);
  flush_clients(FLUSH_MS);
  // Like containerd's shim after an exit: the runtime's state and the container's cgroups
  // go now, off berthd's path (berthd knows it done when this process is gone).
  run_delete();
  reap_container(0);
  log_close();  // a compression under way ends before we do
  exit(0);
}

static void advance(void) {
  if (create_reaped && !created) on_create_done();
  if (created && !run_mode && start_pid < 0 && !exited && (!opt.wait_start || start_requested)) run_start();
  if (start_reaped && !started) {
    if (start_status != 0) fail("start", exit_code_of(start_status), 1);
    started = 1;
    broadcast_text('S', "");
  }
  // A container killed before start finished is reported once start has spoken.
  if (exited && drain_deadline == 0 && (start_pid < 0 || started)) drain_deadline = now_ms() + DRAIN_MS;
  if (drain_deadline && (streams_done() || now_ms() >= drain_deadline)) finish();
}

// ---------------------------------------------------------------------------
// Main loop

enum { T_SIG, T_LISTEN, T_CLISTEN, T_CCONN, T_OUT, T_ERR, T_STDIN, T_CLIENT };

static void loop(void) {
  for (;;) {
    advance();
    struct pollfd pfd[T_CLIENT + MAX_CLIENTS];
    int tag[T_CLIENT + MAX_CLIENTS], n = 0;
#define WATCH(f, ev, t) do { pfd[n].fd = (f); pfd[n].events = (short)(ev); pfd[n].revents = 0; tag[n++] = (t); } while (0)
    WATCH(sig_fd, POLLIN, T_SIG);
    if (listen_fd >= 0) WATCH(listen_fd, POLLIN, T_LISTEN);
    if (console_listen_fd >= 0) WATCH(console_listen_fd, POLLIN, T_CLISTEN);
    if (console_conn_fd >= 0) WATCH(console_conn_fd, POLLIN, T_CCONN);
    int paused = created && output_paused(exited);
    for (int i = 0; i < 2; i++) {
      struct stream *s = &streams[i];
      if (s->fd < 0) continue;
      short ev = paused || (run_mode && !created && s->held_len == HOLD_MAX) ? 0 : POLLIN;
      if (s->fd == master_fd && stdin_q.len > 0) ev |= POLLOUT;
      if (ev) WATCH(s->fd, ev, T_OUT + i);
    }
    if (stdin_fd >= 0 && stdin_q.len > 0) WATCH(stdin_fd, POLLOUT, T_STDIN);
    // While stdin is backed up, leave clients' input unread: that is their backpressure.
    int read_clients = stdin_q.len < STDIN_HIGH;
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = &clients[i];
      if (c->fd < 0) continue;
      short ev = (read_clients ? POLLIN : 0) | (c->out.len ? POLLOUT : 0);
      if (ev) WATCH(c->fd, ev, T_CLIENT + i);
    }
#undef WATCH
    int timeout = -1;
    if (drain_deadline) {
      long long left = drain_deadline - now_ms();
      timeout = left < 0 ? 0 : (int)left;
    }
    if (poll(pfd, (nfds_t)n, timeout) < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "berth-monitor: poll: %s\n", strerror(errno));
      exit(1);
    }
    for (int k = 0; k < n; k++) {
      short re = pfd[k].revents;
      if (!re) continue;
      int t = tag[k];
      if (t == T_SIG) reap_all();
      else if (t == T_LISTEN) accept_clients();
      else if (t == T_CLISTEN) console_accept();
      else if (t == T_CCONN) { if (console_conn_fd >= 0) console_receive(); }
      else if (t == T_OUT || t == T_ERR) {
        struct stream *s = &streams[t - T_OUT];
        if ((re & POLLOUT) && s->fd == master_fd) stdin_flush();
        if (s->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR))) stream_read(s);
      } else if (t == T_STDIN) stdin_flush();
      else {
        struct client *c = &clients[t - T_CLIENT];
        if (c->fd < 0) continue;
        if (re & POLLOUT) client_flush(c);
        if (re & (POLLIN | POLLHUP | POLLERR)) client_read(c);
      }
    }
  }
}

// ---------------------------------------------------------------------------

static void setup(void) {
  // fd 3 is berthd's end of a socketpair when it spawned us; anything else is not ours to use.
  struct stat st;
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  if (fstat(3, &st) == 0 && S_ISSOCK(st.st_mode)) {
    fcntl(3, F_SETFD, FD_CLOEXEC);
    set_nonblock(3);
    add_client(3);
  }
  // Without fds 0-2, our pipes could land there and be clobbered by dup2 in the child.
  int fd;
  while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2) {}
  if (fd > 2) close(fd);
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

  // The container's init is reparented to us when `runtime create` exits.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // berthd stops containers through the runtime; signals to us are not a request to go.
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0 || devnull < 0) {
    fprintf(stderr, "berth-monitor: setup: %s\n", strerror(errno));
    broadcast_text('F', "create 255");
    flush_clients(FLUSH_MS);
    exit(1);
  }

  if (opt.log_path) {
    struct log_config lc = {.path = opt.log_path, .max_size = -1, .max_file = 1, .compress = opt.log_compress};
    if (opt.log_driver && strcmp(opt.log_driver, "local") == 0) lc.driver = LOG_LOCAL;
    else if (opt.log_driver && strcmp(opt.log_driver, "json-file") != 0) usage("--log-driver: json-file or local");
    if (opt.log_max_size) lc.max_size = atoll(opt.log_max_size);
    if (opt.log_max_file) lc.max_file = atoi(opt.log_max_file);
    if (opt.log_attrs && lc.driver == LOG_JSON_FILE) lc.attrs = opt.log_attrs;
    if (log_open(&lc) < 0) {
      fprintf(stderr, "berth-monitor: %s: %s\n", opt.log_path, strerror(errno));
      fail("create", 255, 0);
    }
    logging = 1;
  }
  listen_fd = listen_on(opt.socket);
  if (listen_fd < 0) {
    fprintf(stderr, "berth-monitor: %s: %s\n", opt.socket, strerror(errno));
    fail("create", 255, 0);
  }
  if (opt.tty) {
    size_t n = strlen(opt.socket);
    console_path = malloc(n + 64);
    if (!console_path) fail("create", 255, 0);
    struct sockaddr_un sa;
    if (n + 8 < sizeof sa.sun_path) {
      memcpy(console_path, opt.socket, n);
      memcpy(console_path + n, ".console", 9);
      console_path_is_file = 1;
    } else {
      // runc dials the path itself, so it has to fit; an abstract name always does.
      snprintf(console_path, n + 64, "@berth-console-%d", (int)getpid());
    }
    console_listen_fd = listen_on(console_path);
    if (console_listen_fd < 0) {
      fprintf(stderr, "berth-monitor: %s: %s\n", console_path, strerror(errno));
      fail("create", 255, 0);
    }
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  run_mode = !opt.wait_start;
  setup();
  run_create();
  loop();
  return 0;
}
