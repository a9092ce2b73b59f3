// The container log as berth-monitor writes it: Docker's json-file or local format,
// rotation at a size limit, and gzip compression of rotated files in a child process.
#ifndef BERTH_LOG_WRITER_H
#define BERTH_LOG_WRITER_H

#include <stddef.h>
#include <sys/types.h>

enum { LOG_JSON_FILE, LOG_LOCAL };

struct log_config {
  const char *path;
  int driver;          // LOG_JSON_FILE or LOG_LOCAL
  long long max_size;  // rotate once the file holds this many bytes; -1: never
  int max_file;        // files kept, the current one included (1: the file is started afresh)
  int compress;        // gzip rotated files
  const char *attrs;   // json-file: a JSON object written as each entry's "attrs"; NULL: none
};

// Opens (appends to) the log; -1 with errno set on failure.
int log_open(const struct log_config *cfg);

// One message of stream 0 (stdout) or 1 (stderr): a whole line with its '\n'
// (complete), or a piece of a longer line or the unterminated end of the output.
// Each message gets the time it is written, as Docker's copier stamps each line, made
// unique within the log (readers following it across rotations tell files apart by the
// time of their last entry); pieces of one line share the first piece's time.
void log_message(int stream, const unsigned char *p, size_t n, int complete);

// Writes the messages given so far (they are gathered to be written together).
void log_sync(void);

// The main loop reaped `pid`: returns 1 when it was the compressor, which is then done.
int log_reaped(pid_t pid);

// Waits for a compression under way (bounded by the size of one file): the monitor's exit
// should not leave it running, nor a log half compressed.
void log_close(void);

#endif
