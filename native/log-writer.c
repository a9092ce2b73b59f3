// The container log, written the way dockerd's json-file and local drivers write it, so
// that a log survives berthd being killed (only the monitor writes it) and reads back as
// Docker's would:
//
// json-file: one JSON object a line, {"log":…,"stream":…,["attrs":{…},]"time":RFC3339Nano},
//   escaped as Docker's encoder escapes (<, >, & and control bytes as \u00XX, invalid
//   UTF-8 as \ufffd).
// local: protobuf LogEntry{source=1, time_nano=2, line=3 (no '\n'), partial=4,
//   partial_log_metadata=5{last=1, id=2, ordinal=3}}, framed by its big-endian uint32
//   length before and after (the trailing copy lets readers walk the file backwards).
//
// Rotation follows Docker's loggerutils: before an entry is written, a file holding
// max_size bytes or more is rotated: <log>.N-1 is removed, <log>.i moves to <log>.i+1,
// <log> becomes <log>.1 and a new <log> is started; with max_file 1 the file is unlinked and
// started afresh (a reader holding it open keeps what it had). With compression, <log>.1 is
// gzipped to <log>.1.gz by a forked child, so the container's output never waits on gzip
// (only a rotation that comes before the previous compression ended waits for it). The
// gzip header's extra field carries {"lastTime": …}, the time of the file's last entry, as
// Docker's does, so readers can skip whole files older than --since.
#include "log-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PIECE_MAX ((size_t)16 << 10)  // the monitor never passes a longer message
#define PARTIAL_ID_LEN 64

static struct log_config cfg;
static int fd = -1;
static long long size;                // bytes in the current file
static struct timespec last_time;     // of the last entry written to the current file
static int have_last_time;
static char *name_a, *name_b;         // scratch paths: <log>.N[.gz][.tmp]
static char *attrs_field;             // "\"attrs\":{…}," or NULL
static size_t attrs_len;
static pid_t compressor = -1;

// A line split into pieces: its id, the next piece's ordinal, and the first piece's time.
static struct {
  int active;
  char id[PARTIAL_ID_LEN + 1];
  int ordinal;
  struct timespec time;
} chain[2];

// One entry: JSON escapes grow a byte to at most 6; local adds a small header.
static unsigned char buf[PIECE_MAX * 6 + 512];
// Entries waiting for one write: a write per line would cost more than all the rest of
// the writing. log_sync() empties it, after every read of the container's output.
static unsigned char pending[64 << 10];
static size_t pending_len;

static const char *const stream_names[2] = {"stdout", "stderr"};

// ---------------------------------------------------------------------------
// Encoding

// Go's time.RFC3339Nano in UTC: the fraction without trailing zeros. The date and time
// of day are formatted once a second: this runs for every line.
static size_t format_rfc3339nano(const struct timespec *ts, char *out) {
  static time_t cached_sec = -1;
  static char cached[24];
  static size_t cached_len;
  if (ts->tv_sec != cached_sec) {
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = ts->tv_sec;
  }
  memcpy(out, cached, cached_len);
  size_t n = cached_len;
  long ns = ts->tv_nsec;
  if (ns) {
    int digits = 9;
    while (ns % 10 == 0) {
      ns /= 10;
      digits--;
    }
    out[n++] = '.';
    for (int i = digits - 1; i >= 0; i--, ns /= 10) out[n + (size_t)i] = (char)('0' + ns % 10);
    n += (size_t)digits;
  }
  out[n++] = 'Z';
  out[n] = 0;
  return n;
}

// The JSON string body as Docker's json-file encoder writes it. Returns bytes written.
static size_t json_escape(const unsigned char *s, size_t n, unsigned char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      if (c >= 0x20 && c != '\\' && c != '"' && c != '<' && c != '>' && c != '&') {
        out[o++] = c;
      } else if (c == '\\' || c == '"') {
        out[o++] = '\\';
        out[o++] = c;
      } else if (c == '\n') {
        out[o++] = '\\';
        out[o++] = 'n';
      } else if (c == '\r') {
        out[o++] = '\\';
        out[o++] = 'r';
      } else {
        memcpy(out + o, "\\u00", 4);
        out[o + 4] = (unsigned char)hex[c >> 4];
        out[o + 5] = (unsigned char)hex[c & 15];
        o += 6;
      }
      continue;
    }
    // A multi-byte sequence as Go decodes it: overlongs, surrogates, anything past
    // U+10FFFF and truncated sequences are invalid, one byte at a time.
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
    int ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) ok = 0;
      else cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = 0;
    if (!ok) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      i++;
    } else if (cp == 0x2028 || cp == 0x2029) {  // JavaScript's line separators
      memcpy(out + o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
      o += 6;
      i += len;
    } else {
      memcpy(out + o, s + i, len);
      o += len;
      i += len;
    }
  }
  return o;
}

static size_t put_varint(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

// A local-driver record in buf; returns its length. Proto3 leaves out zero values, and
// fields go in field-number order, as Docker's generated marshaller writes them.
static size_t encode_local(int stream, const unsigned char *line, size_t n, const struct timespec *ts,
                           int partial, int last, const char *id, int ordinal) {
  unsigned char *p = buf + 4;
  size_t name_len = strlen(stream_names[stream]);
  *p++ = 0x0a;
  p += put_varint(p, name_len);
  memcpy(p, stream_names[stream], name_len);
  p += name_len;
  int64_t nanos = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
  if (nanos) {
    *p++ = 0x10;
    p += put_varint(p, (uint64_t)nanos);
  }
  if (n) {
    *p++ = 0x1a;
    p += put_varint(p, n);
    memcpy(p, line, n);
    p += n;
  }
  if (partial) {
    *p++ = 0x20;
    *p++ = 1;
    unsigned char md[PARTIAL_ID_LEN + 16];
    size_t m = 0;
    if (last) {
      md[m++] = 0x08;
      md[m++] = 1;
    }
    md[m++] = 0x12;
    m += put_varint(md + m, PARTIAL_ID_LEN);
    memcpy(md + m, id, PARTIAL_ID_LEN);
    m += PARTIAL_ID_LEN;
    if (ordinal) {
      md[m++] = 0x18;
      m += put_varint(md + m, (uint64_t)(uint32_t)ordinal);
    }
    *p++ = 0x2a;
    p += put_varint(p, m);
    memcpy(p, md, m);
    p += m;
  }
  size_t body = (size_t)(p - (buf + 4));
  put_be32(buf, (uint32_t)body);
  put_be32(p, (uint32_t)body);
  return body + 8;
}

// ---------------------------------------------------------------------------
// Files

static char *rotated_name(char *dst, int i, const char *suffix) {
  sprintf(dst, "%s.%d%s", cfg.path, i, suffix);
  return dst;
}

static int open_current(int flags) {
  fd = open(cfg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | flags, 0640);
  if (fd < 0) return -1;
  off_t end = lseek(fd, 0, SEEK_END);
  size = end > 0 ? end : 0;
  have_last_time = 0;
  return 0;
}

static int write_all_iov(struct iovec *iov, int cnt) {
  while (cnt > 0) {
    ssize_t w = writev(fd, iov, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (cnt > 0 && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = (char *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}

static void wait_compressor(void) {
  while (compressor > 0) {
    int st;
    pid_t r = waitpid(compressor, &st, 0);
    if (r == compressor || (r < 0 && errno != EINTR)) compressor = -1;
  }
}

// In the child: <log>.1 -> <log>.1.gz.tmp -> <log>.1.gz, then <log>.1 goes. Until the
// rename, readers find the uncompressed file; after it they prefer it while it lasts.
static int gzip_rotated(const struct timespec *last, int have_last) {
  char *src = rotated_name(name_a, 1, "");
  char *tmp = rotated_name(name_b, 1, ".gz.tmp");
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno == ENOENT ? 0 : 1;
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) return 1;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 1;
  char extra[64];
  gz_header h;
  memset(&h, 0, sizeof h);
  h.os = 255;  // "unknown", as Go's gzip writer says
  if (have_last) {
    char t[40];
    format_rfc3339nano(last, t);
    h.extra = (unsigned char *)extra;
    h.extra_len = (unsigned)snprintf(extra, sizeof extra, "{\"lastTime\":\"%s\"}", t);
  }
  deflateSetHeader(&z, &h);
  static unsigned char ibuf[64 << 10], obuf[64 << 10];
  int flush = Z_NO_FLUSH, rc = Z_OK;
  do {
    ssize_t n = read(in, ibuf, sizeof ibuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (n == 0) flush = Z_FINISH;
    z.next_in = ibuf;
    z.avail_in = (unsigned)n;
    do {
      z.next_out = obuf;
      z.avail_out = sizeof obuf;
      rc = deflate(&z, flush);
      size_t have = sizeof obuf - z.avail_out;
      for (size_t off = 0; off < have;) {
        ssize_t w = write(out, obuf + off, have - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          return 1;
        }
        off += (size_t)w;
      }
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  if (rc != Z_STREAM_END || close(out) < 0) return 1;
  close(in);
  if (rename(tmp, rotated_name(name_a, 1, ".gz")) < 0) return 1;
  unlink(rotated_name(name_a, 1, ""));
  return 0;
}

static void start_compressor(const struct timespec *last, int have_last) {
  pid_t pid = fork();
  if (pid != 0) {
    compressor = pid;  // on failure (-1) the file stays uncompressed, still readable
    return;
  }
  // Holding the container's pipes or the clients' sockets would keep them open past
  // the monitor: this child keeps nothing but stdio.
  if (close_range(3, ~0U, 0) < 0)
    for (int i = 3; i < 1024; i++) close(i);
  setpriority(PRIO_PROCESS, 0, 10);
  int rc = gzip_rotated(last, have_last);
  if (rc) unlink(rotated_name(name_b, 1, ".gz.tmp"));
  _exit(rc);
}

// Writes what is pending; with O_APPEND, whole entries land together.
static void flush_pending(void) {
  if (pending_len && fd >= 0) {
    struct iovec iov[1] = {{pending, pending_len}};
    write_all_iov(iov, 1);
  }
  pending_len = 0;
}

// Queues one entry made of up to three parts (counted in the file's size at once).
static void append_entry(struct iovec *iov, int cnt) {
  size_t total = 0;
  for (int i = 0; i < cnt; i++) total += iov[i].iov_len;
  if (total > sizeof pending - pending_len) flush_pending();
  if (total > sizeof pending) {
    write_all_iov(iov, cnt);  // larger than the whole buffer: straight out
  } else {
    for (int i = 0; i < cnt; i++) {
      if (!iov[i].iov_len) continue;  // an absent part (no attrs) has no base
      memcpy(pending + pending_len, iov[i].iov_base, iov[i].iov_len);
      pending_len += iov[i].iov_len;
    }
  }
  size += (long long)total;
}

static void rotate(void) {
  flush_pending();
  wait_compressor();
  close(fd);
  fd = -1;
  if (cfg.max_file < 2) {
    unlink(cfg.path);
  } else {
    // Both spellings move: a file left uncompressed (its compressor was killed) or stale
    // from a run without compression keeps its place in the order.
    unlink(rotated_name(name_a, cfg.max_file - 1, ""));
    unlink(rotated_name(name_a, cfg.max_file - 1, ".gz"));
    for (int i = cfg.max_file - 1; i > 1; i--) {
      rename(rotated_name(name_a, i - 1, ""), rotated_name(name_b, i, ""));
      rename(rotated_name(name_a, i - 1, ".gz"), rotated_name(name_b, i, ".gz"));
    }
    unlink(rotated_name(name_a, 1, ".gz.tmp"));
    rename(cfg.path, rotated_name(name_a, 1, ""));
  }
  struct timespec last = last_time;  // the rotated file's last entry, for its gzip header
  int had_last = have_last_time;
  if (open_current(O_TRUNC) < 0) return;  // retried at the next message
  if (cfg.compress && cfg.max_file >= 2) start_compressor(&last, had_last);
}

// ---------------------------------------------------------------------------

int log_open(const struct log_config *c) {
  cfg = *c;
  size_t plen = strlen(cfg.path);
  name_a = malloc(plen + 32);
  name_b = malloc(plen + 32);
  if (!name_a || !name_b) return -1;
  if (cfg.driver == LOG_JSON_FILE && cfg.attrs && cfg.attrs[0]) {
    attrs_len = strlen(cfg.attrs) + 9;
    attrs_field = malloc(attrs_len + 1);
    if (!attrs_field) return -1;
    snprintf(attrs_field, attrs_len + 1, "\"attrs\":%s,", cfg.attrs);
  }
  return open_current(0);
}

static void random_id(char out[PARTIAL_ID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[PARTIAL_ID_LEN / 2];
  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
    struct timespec t;  // no entropy: unique enough within this log
    clock_gettime(CLOCK_MONOTONIC, &t);
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (unsigned char)((t.tv_nsec >> (i % 8)) ^ (i * 131) ^ getpid());
  }
  for (size_t i = 0; i < sizeof raw; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[PARTIAL_ID_LEN] = 0;
}

// Now, or just after the previous entry when the clock has not moved past it (a clock
// stepped back by more than a second is followed, not fought).
static struct timespec entry_time(void) {
  static struct timespec prev;
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  long long behind = (long long)(prev.tv_sec - t.tv_sec) * 1000000000LL + (prev.tv_nsec - t.tv_nsec);
  if (behind >= 0 && behind < 1000000000LL) {
    t = prev;
    if (++t.tv_nsec == 1000000000L) {
      t.tv_nsec = 0;
      t.tv_sec++;
    }
  }
  prev = t;
  return t;
}

void log_message(int stream, const unsigned char *p, size_t n, int complete) {
  if (!cfg.path || n == 0 || n > PIECE_MAX) return;
  struct timespec stamp = entry_time();
  const struct timespec *now = &stamp;
  if (fd < 0 && open_current(0) < 0) return;
  if (cfg.max_size >= 0 && size >= cfg.max_size) {
    rotate();
    if (fd < 0) return;
  }
  // Pieces of one line: all but the last are "partial"; the last closes the chain.
  int partial = 0, last = 0, ordinal = 0;
  const struct timespec *ts = now;
  if (!complete) {
    if (!chain[stream].active) {
      chain[stream].active = 1;
      chain[stream].ordinal = 1;
      chain[stream].time = *now;
      random_id(chain[stream].id);
    }
    partial = 1;
    ordinal = chain[stream].ordinal++;
    ts = &chain[stream].time;
  } else if (chain[stream].active) {
    partial = last = 1;
    ordinal = chain[stream].ordinal;
    ts = &chain[stream].time;
    chain[stream].active = 0;
  }

  if (cfg.driver == LOG_LOCAL) {
    size_t len = complete ? n - 1 : n;  // the local driver keeps lines without their '\n'
    size_t total = encode_local(stream, p, len, ts, partial, last, chain[stream].id, ordinal);
    struct iovec iov[1] = {{buf, total}};
    append_entry(iov, 1);
  } else {
    size_t o = 0;
    memcpy(buf, "{\"log\":\"", 8);
    o = 8 + json_escape(p, n, buf + 8);
    o += (size_t)sprintf((char *)buf + o, "\",\"stream\":\"%s\",", stream_names[stream]);
    char tail[64];
    size_t t = (size_t)sprintf(tail, "\"time\":\"");
    t += format_rfc3339nano(ts, tail + t);
    memcpy(tail + t, "\"}\n", 3);
    t += 3;
    struct iovec iov[3] = {{buf, o}, {attrs_field, attrs_field ? attrs_len : 0}, {tail, t}};
    append_entry(iov, 3);
  }
  last_time = *ts;
  have_last_time = 1;
}

int log_reaped(pid_t pid) {
  if (pid <= 0 || pid != compressor) return 0;
  compressor = -1;
  return 1;
}

void log_sync(void) { flush_pending(); }

void log_close(void) {
  flush_pending();
  wait_compressor();
  if (fd >= 0) close(fd);
  fd = -1;
}
