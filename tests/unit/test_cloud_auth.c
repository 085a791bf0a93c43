/*
 * test_cloud_auth.c - credential files: accepted only when private, one
 * printable line; error messages never contain the secret.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud_auth.h"

static char dir[64];

static const char *make(const char *name, const char *content, mode_t mode)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hark-test-auth-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_private_file_accepted(void **state)
{
    struct cloud_secret s;
    char err[256] = "";
    (void)state;

    assert_int_equal(cloud_auth_read_secret_file(make("k", "sk-test-123\n", 0600), &s, err, sizeof(err)), 0);
    assert_string_equal(s.value, "sk-test-123");
    assert_int_equal(cloud_auth_read_secret_file(make("k2", "ek_abc", 0400), &s, err, sizeof(err)), 0);
    assert_string_equal(s.value, "ek_abc");
    cloud_secret_clear(&s);
    assert_int_equal(s.value[0], 0);
}

static void test_open_file_refused_without_leaking(void **state)
{
    struct cloud_secret s;
    char err[256] = "";
    (void)state;

    assert_int_equal(cloud_auth_read_secret_file(make("k", "sk-leaky-secret\n", 0644), &s, err, sizeof(err)), -EPERM);
    assert_non_null(strstr(err, "chmod 600"));
    assert_null(strstr(err, "leaky"));
    assert_int_equal(s.value[0], 0);
    assert_int_equal(cloud_auth_read_secret_file(make("k", "sk-leaky-secret\n", 0620), &s, err, sizeof(err)), -EPERM);
}

static void test_bad_content(void **state)
{
    struct cloud_secret s;
    char err[256] = "", path[160];
    (void)state;

    assert_int_equal(cloud_auth_read_secret_file(make("e", "", 0600), &s, err, sizeof(err)), -EINVAL);
    assert_int_equal(cloud_auth_read_secret_file(make("e", "\n", 0600), &s, err, sizeof(err)), -EINVAL);
    assert_int_equal(cloud_auth_read_secret_file(make("e", "sk with spaces\n", 0600), &s, err, sizeof(err)), -EINVAL);
    assert_null(strstr(err, "with spaces"));
    assert_int_equal(cloud_auth_read_secret_file("/nonexistent/key", &s, err, sizeof(err)), -ENOENT);
    /* a symlink to a private file is refused (O_NOFOLLOW) */
    snprintf(path, sizeof(path), "%s/link", dir);
    assert_int_equal(symlink(make("k", "sk-x\n", 0600), path), 0);
    assert_true(cloud_auth_read_secret_file(path, &s, err, sizeof(err)) < 0);
    assert_int_equal(cloud_auth_read_secret_file(dir, &s, err, sizeof(err)) < 0, 1);
}

static void test_mint_rejects_bad_url(void **state)
{
    struct cloud_secret cred = { .value = "dev-cred" }, out;
    char err[256] = "";
    (void)state;

    assert_int_equal(cloud_auth_mint("http://example.invalid/token", "/dev/null", &cred, NULL, 1, &out, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "https://"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_file_accepted),
        cmocka_unit_test(test_open_file_refused_without_leaking),
        cmocka_unit_test(test_bad_content),
        cmocka_unit_test(test_mint_rejects_bad_url),
    };
    return cmocka_run_group_tests_name("cloud_auth", tests, setup, teardown);
}
