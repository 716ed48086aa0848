/* The tailer in-process across restarts: offsets saved and resumed exactly (partial lines, cut
 * lines, line numbers), rotations and copytruncates while stopped, inode reuse, sources with the
 * same first lines, reconfiguration, the offsets file itself. Every check counts lines exactly. */
#include "tailer_fixture.h"

START_TEST(partial_line_across_restart)
{
    put(A(), "line 1\nline 2\npart");
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 2);
    put(A(), "ial\n");
    t = restart(t, c, true);      /* committed before the rest of the line was read */
    ck_assert_uint_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].data, "partial");
    ck_assert_uint_eq(got.v[0].lineno, 3);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(restart_resumes_exactly)
{
    lines(A(), 1, 5);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 5);
    lines(A(), 6, 8);
    t = restart(t, c, true);
    ck_assert_uint_eq(got.v[0].lineno, 6);
    expect(6, 8);
    t = restart(t, c, false);     /* not committed: delivered again (the in-flight lines) */
    expect(6, 8);
    t = restart(t, c, true);
    expect(0, -1);
    ck_assert_uint_eq(status(t, 0).lineno, 8);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(stopped_across_rotation)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    fdlines(w, 4, 5);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    fdlines(w, 6, 6);
    close(w);
    lines(A(), 7, 8);
    t = start(c);
    ck_assert_uint_eq(got.v[0].lineno, 4);
    ck_assert_uint_eq(got.v[3].lineno, 1);
    expect(4, 8);
    ck_assert_uint_eq(status(t, 0).gaps, 0);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(stopped_across_two_rotations)
{
    lines(A(), 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    lines(A(), 4, 5);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    lines(A(), 6, 7);
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    lines(A(), 8, 9);
    t = start(c);
    expect(4, 9);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_while_stopped)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    fdlines(w, 4, 5);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 6, 7);
    /* and a second copytruncate before the restart */
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 8, 9);
    close(w);
    t = start(c);
    expect(4, 9);
    ck_assert_uint_eq(status(t, 0).gaps, 0);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(copytruncate_while_stopped_from_empty)
{
    put(A(), "");
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    ck_assert_int_eq(tailer_commit(t), 0);   /* saved while empty: no head to recognise it by */
    tailer_free(t);
    int w = wopen(A());
    fdlines(w, 1, 3);
    copy_file(A(), P("%s.1", A()));
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 4, 5);
    close(w);
    t = start(c);
    expect(1, 5);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(restart_between_copy_and_truncate)
{
    int w = wopen(A());
    fdlines(w, 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    fdlines(w, 4, 5);
    copy_file(A(), P("%s.1", A()));          /* logrotate: copy ... */
    ck_assert_int_eq(truncate(A(), 0), 0);   /* ... truncate */
    fdlines(w, 6, 8);
    ck_assert_int_eq(rename(P("%s.1", A()), P("%s.2", A())), 0);
    copy_file(A(), P("%s.1", A()));          /* the next rotation's copy; its truncate still to come */
    t = start(c);
    expect(4, 8);                            /* 6..8 from the file itself, not from the new copy */
    ck_assert_int_eq(truncate(A(), 0), 0);
    fdlines(w, 9, 9);
    close(w);
    pump(t);
    expect(9, 9);
    ck_assert_uint_eq(status(t, 0).gaps, 0);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(inode_reuse_is_a_new_file)
{
    lines(A(), 1, 3);
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    /* rotated, the rotated file deleted, a new file: ext4 often hands out the same inode */
    ck_assert_int_eq(rename(A(), P("%s.1", A())), 0);
    ck_assert_int_eq(unlink(P("%s.1", A())), 0);
    put(A(), "other 1\nother 2\nother 3\nother 4\n");
    struct stat st;
    ck_assert_int_eq(stat(A(), &st), 0);
    offset_table tab = {0};
    char *state = P("%s/state/offsets.json", tmp);
    ck_assert_int_eq(offsets_load(state, &tab), 0);
    if (tab.v[0].cur.ino != (uint64_t)st.st_ino) {   /* not reused this time: make it so */
        tab.v[0].cur.ino = (uint64_t)st.st_ino;
        ck_assert_int_eq(offsets_save(state, &tab), 0);
    }
    offsets_clear(&tab);
    t = start(c);
    ck_assert_uint_eq(got.n, 4);  /* read from 0, not from the old file's offset */
    ck_assert_str_eq(got.v[0].data, "other 1");
    ck_assert_uint_eq(got.v[0].lineno, 1);
    tailer_free(t);
    config_free(c);
}
END_TEST

/* More rotated siblings than the census holds (rotate 1000): the ones it forgot are old data. A
 * file seen empty and then written must not take them for copies made since (it re-read every
 * forgotten generation from line 1), neither live nor after a restart. */
START_TEST(census_full_never_rereads_forgotten_siblings)
{
    for (int i = 1; i <= 300; i++)
        put(P("%s.%d", A(), i), P("old %d\n", i));
    put(A(), "");
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    pump(t);
    expect(0, -1);
    lines(A(), 1, 2);
    pump(t);
    expect(1, 2);
    ck_assert_int_eq(truncate(A(), 0), 0);   /* truncated by hand: seen empty again */
    pump(t);
    lines(A(), 3, 4);
    pump(t);
    expect(3, 4);
    ck_assert_int_eq(tailer_commit(t), 0);
    _cleanup_free_ char *json = NULL;
    size_t len;
    ck_assert_int_eq(read_file(P("%s/state/offsets.json", tmp), 1 << 20, &json, &len), 0);
    ck_assert_ptr_nonnull(strstr(json, "\"siblings_horizon\""));
    ck_assert_int_eq(truncate(A(), 0), 0);
    t = restart(t, c, true);
    pump(t);
    lines(A(), 5, 6);
    pump(t);
    expect(5, 6);
    t = restart(t, c, true);
    expect(0, -1);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(identical_sources_independent)
{
    lines(A(), 1, 5);
    lines(P("%s/log/b.log", tmp), 1, 3);
    pcmon_config *c = cfg(SRC_A SRC_B);
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 8);
    got_clear();
    lines(P("%s/log/b.log", tmp), 4, 4);
    t = restart(t, c, true);
    ck_assert_uint_eq(got.v[0].src, 1);
    ck_assert_uint_eq(got.v[0].lineno, 4);
    expect(4, 4);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(reconfigure_keeps_offsets)
{
    lines(A(), 1, 2);
    lines(P("%s/log/b.log", tmp), 1, 2);
    pcmon_config *c1 = cfg(SRC_A);
    tailer *t = start(c1);
    expect(1, 2);
    pcmon_config *c2 = cfg(SRC_A SRC_B);
    ck_assert_int_eq(tailer_reconfigure(t, c2), 0);
    config_free(c1);
    ck_assert_uint_eq(got.n, 2);  /* the new source only (start_at: beginning) */
    ck_assert_uint_eq(got.v[0].src, 1);
    got_clear();
    lines(A(), 3, 3);
    pump(t);
    ck_assert_uint_eq(got.v[0].src, 0);
    expect(3, 3);
    pcmon_config *c3 = cfg(SRC_B);
    ck_assert_int_eq(tailer_reconfigure(t, c3), 0);
    config_free(c2);
    lines(A(), 4, 4);
    lines(P("%s/log/b.log", tmp), 3, 3);
    pump(t);
    ck_assert_uint_eq(got.v[0].src, 0);
    ck_assert_uint_eq(got.v[0].lineno, 3);
    expect(3, 3);
    ck_assert_uint_eq(tailer_status(t, NULL, 0), 1);
    tailer_free(t);
    config_free(c3);
}
END_TEST

START_TEST(offsets_file_contents)
{
    lines(A(), 1, 3);
    put(A(), "partial");
    pcmon_config *c = cfg(SRC_A);
    tailer *t = start(c);
    expect(1, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    offset_table tab = {0};
    ck_assert_int_eq(offsets_load(P("%s/state/offsets.json", tmp), &tab), 0);
    const offset_entry *e = offsets_find(&tab, "a");
    ck_assert_ptr_nonnull(e);
    struct stat st;
    ck_assert_int_eq(stat(A(), &st), 0);
    ck_assert(e->has_cur);
    ck_assert_uint_eq(e->cur.dev, st.st_dev);
    ck_assert_uint_eq(e->cur.ino, st.st_ino);
    ck_assert_uint_eq(e->cur.offset, 21);   /* the partial line is not committed */
    ck_assert_uint_eq(e->cur.lineno, 3);
    ck_assert_uint_eq(e->cur.head_len, 28);
    ck_assert_uint_eq(e->cur.head_hash, offsets_fnv(OFFSETS_FNV_INIT, "line 1\nline 2\nline 3\npartial", 28));
    ck_assert_str_eq(e->path, A());
    offsets_clear(&tab);
    tailer_free(t);
    config_free(c);
}
END_TEST

START_TEST(unreadable_state_is_reported)
{
    put(P("%s/state/offsets.json", tmp), "{not json");
    lines(A(), 1, 2);
    pcmon_config *c = cfg("  - {name: a, path: %s/log/a.log}\n");
    tailer *t = start(c);
    ck_assert_uint_eq(got.n, 0);  /* as a first start: at the end */
    ck_assert_ptr_nonnull(strstr(got.warn, "unreadable"));
    lines(A(), 3, 3);
    pump(t);
    expect(3, 3);
    ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    config_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tailer_restart");
    TCase *tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, partial_line_across_restart);
    tcase_add_test(tc, restart_resumes_exactly);
    tcase_add_test(tc, stopped_across_rotation);
    tcase_add_test(tc, stopped_across_two_rotations);
    tcase_add_test(tc, copytruncate_while_stopped);
    tcase_add_test(tc, copytruncate_while_stopped_from_empty);
    tcase_add_test(tc, restart_between_copy_and_truncate);
    tcase_add_test(tc, inode_reuse_is_a_new_file);
    tcase_add_test(tc, census_full_never_rereads_forgotten_siblings);
    tcase_add_test(tc, identical_sources_independent);
    tcase_add_test(tc, reconfigure_keeps_offsets);
    tcase_add_test(tc, offsets_file_contents);
    tcase_add_test(tc, unreadable_state_is_reported);
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
