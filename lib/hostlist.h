/* Slurm hostlists and ParallelCluster node names. */
#ifndef PCMON_HOSTLIST_H
#define PCMON_HOSTLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Compresses node names into Slurm hostlist syntax, e.g. "q-dy-c6xl-[1-7,9-11],other-1".
 * Names are sorted and deduplicated; zero padding is kept ("n[01-03]"). Caller frees. */
char *hostlist_compress(char *const *names, size_t n);

/* Expands a hostlist expression ("q-dy-a-[1-3,5],b") into names, at most max of them.
 * Returns the number of names (>= 0) with *out allocated (caller frees each and the array),
 * or -EINVAL on a malformed expression, -E2BIG past max. */
int hostlist_expand(const char *expr, char ***out, size_t max);

/* Extracts node names from log text: a Python list "['a(10.0.0.1)', 'b']", a set "{'a'}", a
 * hostlist "a-[1-3]", or a single name. The "(address)" suffix is dropped. At most max names.
 * Returns the count, *out allocated as above. */
int nodes_parse(const char *text, char ***out, size_t max);

/* Splits a ParallelCluster node name "<queue>-(st|dy)-<compute-resource>-<n>". Returns true
 * and fills the malloc'ed *queue and *cr (either may be NULL to skip) when it has that form. */
bool node_name_split(const char *name, char **queue, char **cr);

#endif
