/* The tailer's persisted state, <state_dir>/offsets.json: per source (keyed by its name) the file
 * generation being followed and the rotated generations still being drained. Each generation is
 * identified by device, inode and a hash of its first bytes (inodes are reused after rotation),
 * and carries the byte offset and line count of the lines already delivered. */
#ifndef PCMON_OFFSETS_H
#define PCMON_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest head hashed to recognise a file (1 KiB: long enough to hold a timestamped line). */
#define OFFSETS_HEAD_MAX 1024

typedef struct offset_gen {
    uint64_t dev, ino;
    uint64_t offset;       /* bytes delivered (a held partial line is not included) */
    uint64_t lineno;       /* lines delivered */
    uint64_t head_hash;    /* FNV-1a of the first head_len bytes */
    uint32_t head_len;
    uint64_t btime;        /* birth time in ns since the epoch, 0 when the filesystem has none */
    bool skip;             /* offset is inside a cut line: drop up to the next newline */
} offset_gen;

/* A rotated sibling already seen (clustermgtd.1): never taken for a generation that was missed. */
typedef struct offset_id {
    uint64_t dev, ino, btime;
} offset_id;

typedef struct offset_entry {
    char *name;
    char *path;            /* the path followed when saved: state for another path is not reused */
    bool has_cur;          /* false: the file did not exist (a file that appears is read from 0) */
    offset_gen cur;
    offset_gen *drain;     /* rotated generations, oldest first */
    size_t ndrain;
    offset_id *seen;       /* the rotated siblings present at the last look */
    size_t nseen;
    uint64_t horizon;      /* newest birth time of a sibling the bounded census forgot (0: none) */
} offset_entry;

typedef struct offset_table {
    offset_entry *v;
    size_t n, cap;
} offset_table;

/* FNV-1a, 64 bit, continuing from h (start with OFFSETS_FNV_INIT). */
#define OFFSETS_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t offsets_fnv(uint64_t h, const void *p, size_t n);

/* Parses the JSON text into t (which must be empty). Returns 0, or -EINVAL for anything that is
 * not this format (t is then left empty). */
int offsets_from_json(const char *s, size_t len, offset_table *t);
/* Returns the JSON text (caller frees). */
char *offsets_to_json(const offset_table *t);
/* Reads path; -ENOENT when there is none, -EINVAL when it is not this format. */
int offsets_load(const char *path, offset_table *t);
/* Writes path atomically (temp file, fsync, rename, fsync of the directory). 0 or -errno. */
int offsets_save(const char *path, const offset_table *t);

/* Appends an entry (strings copied, drain copied) and returns it. */
offset_entry *offsets_add(offset_table *t, const char *name, const char *path);
void offsets_add_drain(offset_entry *e, const offset_gen *g);
void offsets_add_seen(offset_entry *e, const offset_id *id);
const offset_entry *offsets_find(const offset_table *t, const char *name);
/* Frees the contents; t is empty and reusable afterwards. */
void offsets_clear(offset_table *t);

#endif
