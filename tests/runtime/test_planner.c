/* The greedy arena planner: exact offsets on small, hand-checked cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "planner.h"

/* A chain a -> b -> c: a and c never live together, so they share. */
static void test_chain_reuses_memory(void **state)
{
    (void)state;
    tml_plan_item items[3] = {
        { 100, 0, 0, 0 },   /* a: written by op 0's input side, read by op 0 */
        { 50, 0, 1, 0 },    /* b: written by op 0, read by op 1 */
        { 100, 1, 1, 0 },   /* c: written by op 1 */
    };
    int32_t order[3];
    size_t total = tml_plan(items, 3, order, 8);
    /* Sizes round up to 8: 104, 56, 104.  Largest first: a at 0; c lives
     * [1,1] and a [0,0], so c shares offset 0; b overlaps both in time and
     * goes above them. */
    assert_int_equal(items[0].offset, 0);
    assert_int_equal(items[2].offset, 0);
    assert_int_equal(items[1].offset, 104);
    assert_int_equal(total, 160);
}

/* Three buffers alive at once stack up; a later small one fills a gap. */
static void test_gap_is_filled(void **state)
{
    (void)state;
    tml_plan_item items[4] = {
        { 64, 0, 2, 0 },
        { 32, 0, 0, 0 },    /* dies after op 0 */
        { 16, 0, 2, 0 },
        { 24, 1, 2, 0 },    /* born at op 1: fits where the 32 was */
    };
    int32_t order[4];
    size_t total = tml_plan(items, 4, order, 8);
    assert_int_equal(items[0].offset, 0);
    assert_int_equal(items[1].offset, 64);
    assert_int_equal(items[3].offset, 64);
    assert_int_equal(items[2].offset, 96);
    assert_int_equal(total, 112);
}

/* Zero-sized buffers take no room; alignment rounds every size. */
static void test_zero_and_alignment(void **state)
{
    (void)state;
    tml_plan_item items[3] = {
        { 0, 0, 3, 0 },
        { 1, 0, 3, 0 },
        { 9, 0, 3, 0 },
    };
    int32_t order[3];
    size_t total = tml_plan(items, 3, order, 16);
    /* 1 and 9 both round to 16; equal sizes go in index order. */
    assert_int_equal(items[2].size, 16);
    assert_int_equal(items[1].offset, 0);
    assert_int_equal(items[2].offset, 16);
    assert_int_equal(items[0].offset, 0);
    assert_int_equal(total, 32);
}

/* No two live-together buffers overlap, on a larger pseudo-random case. */
static void test_no_overlap_random(void **state)
{
    (void)state;
    enum { N = 60 };
    tml_plan_item items[N];
    int32_t order[N];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 1664525u + 1013904223u;
        items[i].size = 1 + (s >> 20) % 500;
        s = s * 1664525u + 1013904223u;
        items[i].first = (int32_t)((s >> 24) % 30);
        s = s * 1664525u + 1013904223u;
        items[i].last = items[i].first + (int32_t)((s >> 24) % 6);
    }
    size_t total = tml_plan(items, N, order, 8);
    for (int i = 0; i < N; i++) {
        assert_true(items[i].offset + items[i].size <= total);
        for (int j = i + 1; j < N; j++) {
            int live = items[i].first <= items[j].last && items[j].first <= items[i].last;
            int mem = items[i].offset < items[j].offset + items[j].size &&
                      items[j].offset < items[i].offset + items[i].size;
            assert_false(live && mem);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_reuses_memory),
        cmocka_unit_test(test_gap_is_filled),
        cmocka_unit_test(test_zero_and_alignment),
        cmocka_unit_test(test_no_overlap_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
