/* The tailer in-process, following live files: rotation, copytruncate, truncation, deletion,
 * directories and files that appear later, symlinks, inotify overflow and exhaustion, siblings,
 * partial, long and binary lines, backlogs. Every check counts lines exactly against what the
 * test wrote (a lost or a duplicated line fails). Restarts: test_tailer_restart.c. */
#include "tailer_fixture.h"

static int max_queued_events(void)
{
    _cleanup_free_ char *s = NULL;
    size_t len;
    if (read_file("/proc/sys/fs/inotify/max_queued_events", 64, &s, &len) < 0)
        return 16384;
    return atoi(s);
}

START_TEST(start_at_end_or_beginning)
{
    lines(A(), 1, 3);
    lines(P("%s/log/b.log", tmp), 1, 3);
    pcmon_config *c = cfg("  - {name: a, path: %s/log/a.log}\n" SRC_B);
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 3);   /* b from its beginning, a from its end */
    ck_assert_uint_eq(got.v[0].src, 1);
    got_clear();
    lines(A(), 4, 4);
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 4);   /* numbering counts the lines before the start */
    expect(4, 4);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);   /* idle: no wake-ups */
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(appears_later_in_missing_dirs)
{
    pcmon_config *c = cfg("  - {name: a, path: %s/x/y/a.log}\n  - {name: b, path: %s/p/q/b.log}\n");
    tailer *t = start(c);
    ck_assert(!status(t, 0).exists);
    ck_assert(!status(t, 0).polling);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    ck_assert_int_eq(mkdir(P("%s/x", tmp), 0755), 0);
    pump(t);
    ck_assert_int_eq(mkdir(P("%s/x/y", tmp), 0755), 0);
    pump(t);
    lines(P("%s/x/y/a.log", tmp), 1, 3);   /* created after the start: read from its start */
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 1);
    expect(1, 3);
    /* the whole tree at once, before the tailer looks */
    ck_assert_int_eq(mkdir(P("%s/p", tmp), 0755), 0);
    ck_assert_int_eq(mkdir(P("%s/p/q", tmp), 0755), 0);
    lines(P("%s/p/q/b.log", tmp), 1, 2);
    pump(t);
    expect(1, 2);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(rename_create_writer_keeps_old)
{
    int w = wopen(A());
    fdlines(w, 1, 10);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 10);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    close(wopen(A()));            /* logrotate's create */
    fdlines(w, 11, 15);           /* the writer has not reopened yet */
    pump(t);
    expect(11, 15);
    fdlines(w, 16, 18);           /* more to the old file, then the reopen, all before a look */
    close(w);
    w = wopen(A());
    fdlines(w, 19, 20);
    pump(t);
    ck_assert_uint_eq(got.v[2].lineno, 18);
    ck_assert_uint_eq(got.v[3].lineno, 1);
    expect(16, 20);
    ck_assert_uint_eq(status(t, 0).draining, 1);
    ck_assert_uint_eq(status(t, 0).rotations, 1);
    ck_assert_uint_lt(tailer_next_deadline(t, now_us), USEC_INFINITY);
    now_us += 11 * USEC_PER_SEC;  /* the old file's grace is over: it is closed */
    pump(t);
    ck_assert_uint_eq(status(t, 0).draining, 0);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    fdlines(w, 21, 21);
    pump(t);
    expect(21, 21);
    close(w);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(rename_without_create)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    pump(t);
    ck_assert(!status(t, 0).exists);
    fdlines(w, 4, 5);
    close(w);
    pump(t);
    expect(4, 5);
    now_us += 30 * USEC_PER_SEC;
    lines(A(), 6, 7);             /* the next ResumeProgram run creates it */
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 1);
    expect(6, 7);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_recovers_from_copy)
{
    int w = wopen(A());
    fdlines(w, 1, 10);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 10);
    fdlines(w, 11, 20);           /* written after the last read, before the copy */
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 21, 25);
    close(w);
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 11);
    ck_assert_uint_eq(got.v[10].lineno, 1);
    expect(11, 25);
    ck_assert_uint_eq(status(t, 0).truncations, 1);
    ck_assert_uint_eq(status(t, 0).gaps, 0);
    ck_assert_uint_eq(got.warns, 0);
    /* the copy is finished at its end; nothing is read twice later */
    pump(t);
    ck_assert_uint_eq(status(t, 0).draining, 0);
    lines(A(), 26, 26);
    pump(t);
    expect(26, 26);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_gap_is_reported)
{
    lines(A(), 1, 5);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 5);
    lines(A(), 6, 8);
    ck_assert_int_eq(truncate(A(), 0), 0);   /* no copy anywhere */
    lines(A(), 9, 9);
    pump(t);
    expect(9, 9);
    ck_assert_uint_eq(status(t, 0).gaps, 1);
    ck_assert_ptr_nonnull(strstr(got.warn, "copytruncate gap unrecoverable"));
    ck_assert_ptr_nonnull(strstr(got.warn, "a.log"));
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_twice_first_seen_empty)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    pump(t);                               /* the truncation is seen while the file is empty */
    fdlines(w, 4, 6);
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    copy_file(A(), P("%s.1", A()));          /* and 4..6 are rotated away before a look */
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 7, 8);
    close(w);
    pump(t);
    expect(4, 8);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_twice_first_seen_partial)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    wr(w, "line", 4);                      /* seen holding "line": every generation starts so */
    pump(t);
    ck_assert_uint_eq(got.n, 0);
    ck_assert_uint_lt(tailer_next_deadline(t, now_us), USEC_INFINITY);   /* waits partial_flush at most */
    wr(w, " 4\n", 3);
    fdlines(w, 5, 6);
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 7, 8);
    pump(t);
    expect(4, 8);
    /* a writer that never ends its first line is read after partial_flush */
    copy_file(A(), P("%s.3", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    wr(w, "tail", 4);
    close(w);
    pump(t);
    ck_assert_uint_eq(got.n, 0);
    now_us += 2 * USEC_PER_SEC;
    pump(t);
    now_us += 2 * USEC_PER_SEC;
    pump(t);
    ck_assert_uint_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].data, "tail");
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(truncate_then_rewrite_past_offset)
{
    lines(A(), 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(truncate(A(), 0), 0);
    lines(A(), 100, 110);         /* longer than before: only the head tells */
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 1);
    expect(100, 110);
    ck_assert_uint_eq(status(t, 0).truncations, 1);
    /* an app that rewrites the file shorter (O_TRUNC): no stale reads of the old offset */
    int fd = open(A(), O_WRONLY | O_TRUNC);
    wr(fd, "line 50\nline 51\n", 16);
    close(fd);
    pump(t);
    expect(50, 51);
    ck_assert_uint_eq(status(t, 0).truncations, 2);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(deleted_with_unread_data_then_recreated)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    fdlines(w, 4, 6);
    ck_assert_int_eq(unlink(A()), 0);
    pump(t);
    expect(4, 6);
    fdlines(w, 7, 7);             /* its writer still has it open */
    pump(t);
    expect(7, 7);
    close(w);
    ck_assert(fd_open_to("a.log (deleted)"));
    now_us += 11 * USEC_PER_SEC;
    pump(t);
    ck_assert(!fd_open_to("a.log (deleted)"));   /* no handle held on a deleted file after its end */
    ck_assert_uint_eq(status(t, 0).draining, 0);
    lines(A(), 8, 9);
    pump(t);
    ck_assert_uint_eq(got.v[0].lineno, 1);
    expect(8, 9);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(directory_removed_and_recreated)
{
    lines(A(), 1, 2);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 2);
    ck_assert_int_eq(unlink(A()), 0);
    ck_assert_int_eq(rmdir(P("%s/log", tmp)), 0);
    pump(t);
    ck_assert_int_eq(mkdir(P("%s/log", tmp), 0755), 0);
    pump(t);
    lines(A(), 3, 4);
    pump(t);
    expect(3, 4);
    /* again, all before the tailer looks */
    ck_assert_int_eq(unlink(A()), 0);
    ck_assert_int_eq(rmdir(P("%s/log", tmp)), 0);
    ck_assert_int_eq(mkdir(P("%s/log", tmp), 0755), 0);
    lines(A(), 5, 6);
    pump(t);
    expect(5, 6);
    ck_assert(!status(t, 0).polling);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(queue_overflow_rescans)
{
    lines(A(), 1, 2);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 2);
    int w = wopen(A());
    /* flood the directory watch past the queue (a rename is two events that never coalesce),
     * then rotate twice while events are dropped */
    int flood = max_queued_events() / 2 + 64;
    ck_assert_int_lt(flood, 300000);
    char x[256], y[256];
    snprintf(x, sizeof x, "%s/log/x", tmp);
    snprintf(y, sizeof y, "%s/log/y", tmp);
    put(x, "");
    for (int i = 0; i < flood; i++)
        if (rename(i % 2 ? y : x, i % 2 ? x : y) < 0)
            ck_abort_msg("rename: %s", strerror(errno));
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    fdlines(w, 3, 4);
    close(w);
    lines(A(), 5, 6);
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    lines(A(), 7, 8);
    pump(t);
    expect(3, 8);
    ck_assert_uint_ge(tailer_overflows(t), 1);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(inotify_unavailable_polls)
{
    lines(A(), 1, 2);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = tailer_new(c, "", on_line, NULL);
    tailer_set_warn(t, on_warn, NULL);
    tailer_inject_inotify_failure(t, -EMFILE, 0);
    ck_assert_int_eq(tailer_start(t, now_us), 0);
    expect(1, 2);
    ck_assert_int_eq(tailer_fd(t), -1);
    ck_assert(status(t, 0).polling);
    ck_assert_ptr_nonnull(strstr(got.warn, "inotify exhausted, polling"));
    lines(A(), 3, 4);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), now_us + USEC_PER_SEC);
    ck_assert_int_eq(tailer_process(t, now_us), 0);
    ck_assert_uint_eq(got.n, 0);
    now_us += USEC_PER_SEC;
    pump(t);
    expect(3, 4);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);   /* rotation seen by polling too */
    lines(P("%s.1", A()), 5, 5);
    lines(A(), 6, 7);
    now_us += USEC_PER_SEC;
    pump(t);
    expect(5, 7);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(inotify_watch_limit_polls)
{
    lines(A(), 1, 2);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = tailer_new(c, "", on_line, NULL);
    tailer_set_warn(t, on_warn, NULL);
    tailer_inject_inotify_failure(t, 0, -ENOSPC);
    ck_assert_int_eq(tailer_start(t, now_us), 0);
    expect(1, 2);
    ck_assert_int_ge(tailer_fd(t), 0);
    ck_assert(status(t, 0).polling);
    ck_assert_ptr_nonnull(strstr(got.warn, "polling every second"));
    lines(A(), 3, 4);
    now_us += USEC_PER_SEC;
    pump(t);
    expect(3, 4);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(symlinked_path)
{
    char *real = xstrdup(P("%s/real", tmp));
    mkdir(real, 0755);
    lines(P("%s/r.log", real), 1, 2);
    ck_assert_int_eq(symlink(P("%s/r.log", real), A()), 0);
    ck_assert_int_eq(symlink(P("%s/late.log", real), P("%s/log/b.log", tmp)), 0);   /* dangling */
    pcmon_config *c = cfg(SRC_A SRC_B);
    tailer *t = start(c);
    expect(1, 2);
    int w = wopen(P("%s/r.log", real));
    fdlines(w, 3, 3);
    pump(t);
    expect(3, 3);
    /* the target is rotated in its own directory */
    ck_assert_int_eq(rename(P("%s/r.log", real), P("%s/r.log.1", real)), 0);
    fdlines(w, 4, 5);
    close(w);
    lines(P("%s/r.log", real), 6, 7);
    pump(t);
    expect(4, 7);
    /* the dangling link's target appears */
    lines(P("%s/late.log", real), 1, 1);
    pump(t);
    ck_assert_uint_eq(got.v[0].src, 1);
    expect(1, 1);
    /* the link is pointed elsewhere */
    lines(P("%s/s.log", real), 100, 101);
    ck_assert_int_eq(symlink(P("%s/s.log", real), P("%s/log/tmp.lnk", tmp)), 0);
    ck_assert_int_eq(rename(P("%s/log/tmp.lnk", tmp), A()), 0);
    pump(t);
    expect(100, 101);
    free(real);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(not_a_log_file_is_reported_never_opened)
{
    lines(A(), 1, 1);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 1);
    ck_assert_int_eq(unlink(A()), 0);
    pump(t);
    now_us += 6 * 60 * USEC_PER_SEC;         /* the deleted generation is finished and closed */
    pump(t);
    ck_assert_uint_eq(status(t, 0).draining, 0);
    ck_assert_int_eq(mkdir(A(), 0755), 0);
    pump(t);
    ck_assert_ptr_nonnull(strstr(got.warn, "is a directory"));
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    ck_assert_int_eq(rmdir(A()), 0);
    ck_assert_int_eq(mkfifo(A(), 0644), 0);   /* opening it to read would block */
    pump(t);
    ck_assert_ptr_nonnull(strstr(got.warn, "not a regular file"));
    ck_assert(!fd_open_to("a.log"));
    unsigned warns = got.warns;
    pump(t);
    ck_assert_uint_eq(got.warns, warns);      /* once */
    ck_assert_int_eq(unlink(A()), 0);
    ck_assert_int_eq(symlink(A(), A()), 0);   /* a loop */
    pump(t);
    ck_assert_ptr_nonnull(strstr(got.warn, "symlink loop"));
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    ck_assert_int_eq(unlink(A()), 0);
    lines(A(), 1, 2);
    pump(t);
    expect(1, 2);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(rotated_and_compressed_siblings_never_read)
{
    lines(P("%s.1", A()), 1001, 1002);
    lines(P("%s-20260101", A()), 1003, 1003);
    put(P("%s.2.gz", A()), "\x1f\x8b junk\n");
    lines(A(), 1, 2);
    lines(P("%s/log/a.log.events", tmp), 2001, 2002);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 2);
    /* logrotate rotate 3, delaycompress: .1 -> .2, the log -> .1, a new log */
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    lines(A(), 3, 4);
    put(P("%s.3.gz", A()), "\x1f\x8b more junk\n");
    pump(t);
    expect(3, 4);
    ck_assert_int_eq(rename(A(), P("%s.9", A())), 0);
    lines(A(), 5, 5);
    pump(t);
    expect(5, 5);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(sibling_names)
{
    static const struct { const char *name; bool sibling; } v[] = {
        { "a.log.1", true }, { "a.log.12", true }, { "a.log-20260123", true }, { "a.log-20260123-r0001", true },
        { "a.log_2026", true }, { "a.log.1.gz", false }, { "a.log-20260123.gz", false }, { "a.log.events", false },
        { "a.log", false }, { "a.logx", false }, { "a.log.", false }, { "a.log-", false }, { "a.log-old", false },
        { "a.log.1.xz", false }, { "b.log.1", false },
    };
    for (size_t i = 0; i < ELEMENTSOF(v); i++)
        ck_assert_msg(tailfile_is_sibling("a.log", v[i].name) == v[i].sibling, "%s", v[i].name);
}
END_TEST

START_TEST(partial_line_waits_then_flushes)
{
    put(A(), "abc");
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 0);
    ck_assert_uint_eq(status(t, 0).offset, 0);
    put(A(), "def\nxy");
    pump(t);
    ck_assert_uint_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].data, "abcdef");
    got_clear();
    ck_assert_uint_eq(status(t, 0).offset, 7);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), now_us + 2 * USEC_PER_SEC);
    now_us += 2 * USEC_PER_SEC - 1;
    pump(t);
    ck_assert_uint_eq(got.n, 0);
    now_us += 1;                  /* partial_flush (2s) without growth: a writer that never ends it */
    pump(t);
    ck_assert_uint_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].data, "xy");
    ck_assert_uint_eq(got.v[0].lineno, 2);
    ck_assert_uint_eq(status(t, 0).offset, 9);
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), USEC_INFINITY);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(long_line_cut_counted_followed)
{
    size_t big = 1 << 20;
    char *x = xmalloc(big);
    memset(x, 'x', big);
    put(A(), "line 1\n");
    int fd = wopen(A());
    wr(fd, x, big);
    wr(fd, "\nline 3\n", 8);
    close(fd);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 3);
    ck_assert(got.v[1].cut);
    ck_assert_uint_eq(got.v[1].len, 1024);
    ck_assert_uint_eq(got.v[1].lineno, 2);
    ck_assert(!got.v[2].cut);
    ck_assert_str_eq(got.v[2].data, "line 3");
    ck_assert_uint_eq(got.v[2].lineno, 3);
    ck_assert_uint_eq(status(t, 0).cut_lines, 1);
    got_clear();
    lines(A(), 4, 5);
    pump(t);
    expect(4, 5);
    /* a restart inside an over-long line goes on dropping it */
    fd = wopen(A());
    wr(fd, x, 3000);
    close(fd);
    pump(t);
    ck_assert_uint_eq(got.n, 1);
    ck_assert(got.v[0].cut);
    got_clear();
    fd = wopen(A());
    wr(fd, "yyyy\nline 7\n", 12);
    close(fd);
    t = restart(t, c, true);
    ck_assert_uint_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].data, "line 7");
    ck_assert_uint_eq(got.v[0].lineno, 7);
    free(x);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(binary_bytes_pass_through)
{
    int fd = wopen(A());
    wr(fd, "a\0b\xff\xc3\n\0\nok\n", 11);
    close(fd);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 3);
    ck_assert_uint_eq(got.v[0].len, 5);
    ck_assert(memcmp(got.v[0].data, "a\0b\xff\xc3", 5) == 0);
    ck_assert_uint_eq(got.v[1].len, 1);
    ck_assert_str_eq(got.v[2].data, "ok");
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(backlog_is_bounded_per_call)
{
    const int n = 1000000;
    strbuf b = {0};
    for (int i = 1; i <= n; i++)
        strbuf_addf(&b, "line %d\n", i);
    int fd = wopen(A());
    wr(fd, b.s, b.len);
    close(fd);
    strbuf_free(&b);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    ck_assert_uint_lt(got.n, (size_t)n);   /* the first call stopped at its budget */
    ck_assert_uint_eq(tailer_next_deadline(t, now_us), now_us);
    pump(t);
    ck_assert_uint_eq(got.n, (size_t)n);
    for (int i = 0; i < n; i++)
        if (got.v[i].lineno != (uint64_t)i + 1)
            ck_abort_msg("line %d numbered %llu", i + 1, (unsigned long long)got.v[i].lineno);
    expect(1, n);
    tailer_free(t);
    config_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tailer");
    TCase *tc = tcase_create("follow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, start_at_end_or_beginning);
    tcase_add_test(tc, appears_later_in_missing_dirs);
    tcase_add_test(tc, rename_create_writer_keeps_old);
    tcase_add_test(tc, rename_without_create);
    tcase_add_test(tc, copytruncate_recovers_from_copy);
    tcase_add_test(tc, copytruncate_gap_is_reported);
    tcase_add_test(tc, copytruncate_twice_first_seen_empty);
    tcase_add_test(tc, copytruncate_twice_first_seen_partial);
    tcase_add_test(tc, truncate_then_rewrite_past_offset);
    tcase_add_test(tc, deleted_with_unread_data_then_recreated);
    tcase_add_test(tc, directory_removed_and_recreated);
    tcase_add_test(tc, queue_overflow_rescans);
    tcase_add_test(tc, inotify_unavailable_polls);
    tcase_add_test(tc, inotify_watch_limit_polls);
    tcase_add_test(tc, symlinked_path);
    tcase_add_test(tc, not_a_log_file_is_reported_never_opened);
    tcase_add_test(tc, rotated_and_compressed_siblings_never_read);
    tcase_add_test(tc, sibling_names);
    tcase_add_test(tc, partial_line_waits_then_flushes);
    tcase_add_test(tc, long_line_cut_counted_followed);
    tcase_add_test(tc, binary_bytes_pass_through);
    tcase_add_test(tc, backlog_is_bounded_per_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
