/* One generation of a followed log: an open inode, how far it has been read and delivered, and
 * what identifies it (device, inode, birth time, hash of its first bytes). Also the look at the
 * rotated siblings of a log (clustermgtd.1, slurm_resume.log-20260123) that recovery needs.
 * No inotify and no policy here: tailer.c decides what a generation is for. */
#ifndef PCMON_TAILFILE_H
#define PCMON_TAILFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "linesplit.h"
#include "offsets.h"

typedef struct tailfile {
    int fd;
    int wd;                    /* inotify watch on this inode, -1 when none (kept by tailwatch) */
    uint64_t dev, ino;
    uint64_t btime;            /* birth time, ns since the epoch; 0 when the filesystem has none */
    uint64_t size;             /* at the last tailfile_stat() */
    bool unlinked;             /* no name left at the last tailfile_stat() */
    uint64_t pos;              /* bytes fed to the splitter */
    uint64_t lineno;           /* lines delivered */
    uint64_t head_hash;        /* FNV-1a of the first head_len bytes */
    uint32_t head_len;
    char head[OFFSETS_HEAD_MAX];   /* those bytes */
    uint64_t last_growth;      /* caller's clock when data last arrived (or when opened) */
    bool copy;                 /* no writer expected (a copytruncate copy): finished at its end */
    bool stale;                /* the last read stopped: the file was truncated under it */
    linesplit ls;
} tailfile;

/* Opens a regular file for reading, following symlinks. Returns NULL with *err = -errno
 * (-EISDIR/-EINVAL for something that is not a regular file). The head is hashed and the
 * position is 0; *err is 0 on success. */
tailfile *tailfile_open(const char *path, size_t max_line, uint64_t now, int *err);
/* Closes and frees; the caller has removed any inotify watch first. Accepts NULL, returns NULL. */
tailfile *tailfile_close(tailfile *f);

/* Refreshes size and unlinked from fstat. 0 or -errno. */
int tailfile_stat(tailfile *f);
/* True when the file's first len bytes still hash to hash (false when it is shorter now). */
bool tailfile_head_is(const tailfile *f, uint64_t hash, uint32_t len);
/* Re-hashes the head from the file as it is now (after a truncation or on restore). */
void tailfile_rehash(tailfile *f);
/* Restarts reading at pos, with lineno lines before it; skip: pos is inside a cut line. The head
 * kept is the one of the content meant to be read (every chunk read is checked against it). */
void tailfile_seek(tailfile *f, uint64_t pos, uint64_t lineno, bool skip);
/* Sets the head kept (the file's first len bytes, as read by tailfile_read_head). */
void tailfile_set_head(tailfile *f, const char *head, size_t len);
/* The file's first bytes as they are now (up to OFFSETS_HEAD_MAX into buf); returns the count. */
size_t tailfile_read_head(const tailfile *f, char *buf);
/* Positions after the last complete line (first start at the end of an existing file) and
 * counts the lines before it, so path:line references stay right. 0 or -errno. */
int tailfile_seek_end(tailfile *f, char *buf, size_t bufsize);

/* Reads from pos up to limit (UINT64_MAX: end of file), at most *budget bytes (decremented),
 * through buf, feeding the splitter, which calls fn for each line. Each chunk is checked against
 * the head after it is read; when the file was truncated meanwhile the chunk is dropped and
 * stale is set. Returns the bytes fed (0 at the end) or -errno. */
ssize_t tailfile_read(tailfile *f, char *buf, size_t bufsize, uint64_t limit, size_t *budget, uint64_t now,
                      linesplit_fn fn, void *userdata);

/* The offset up to which every line is delivered (pos without the held partial line). */
static inline uint64_t tailfile_done(const tailfile *f) { return f->pos - linesplit_pending(&f->ls); }
void tailfile_state(const tailfile *f, offset_gen *g);

/* What a sibling file is, without keeping it open. The listing takes one statx per name; the
 * head is read only when asked for (tailfile_probe_head). */
typedef struct tailfile_probe {
    char *path;
    uint64_t dev, ino, size, btime;
    bool headed;               /* head read (head_n bytes) */
    bool moved;                /* the name held another file (or none) when the head was read */
    char head[OFFSETS_HEAD_MAX];
    size_t head_n;
} tailfile_probe;

/* True when name is a rotated sibling of base that can be read as text: base.N (digits only), or
 * base-D / base_D where D starts with a digit and has no '.' (dateext). Compressed generations
 * (.gz, .xz, ...) and other logs that share the prefix (clustermgtd.events) are not siblings. */
bool tailfile_is_sibling(const char *base, const char *name);
/* Lists every uncompressed rotated sibling of dir/base that is a regular file. Returns the count;
 * *out is an array the caller frees with tailfile_probes_free. *vanished is set when a name went
 * away between readdir and its statx (the directory is being renamed under the listing). */
size_t tailfile_siblings(const char *dir, const char *base, tailfile_probe **out, bool *vanished);
void tailfile_probes_free(tailfile_probe *p, size_t n);
/* Reads the probe's head once (nothing when the name now holds another file). */
void tailfile_probe_head(tailfile_probe *p);
/* True when the probe's first len bytes hash to hash. */
bool tailfile_probe_head_is(tailfile_probe *p, uint64_t hash, uint32_t len);

#endif
