/* Helpers shared by the cmocka unit tests.  Include after <cmocka.h>. */
#ifndef CVMKIT_TESTUTIL_H
#define CVMKIT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Absolute path of ../shared/vectors/SUB (or $CVMKIT_VECTORS/SUB).  When the
 * folder is absent the calling test is skipped with a message, except under
 * CI=true, where absence fails the test.  Returns a static buffer. */
const char *tu_vectors(const char *sub);

/* Reads a file (fails the test on error); caller frees. */
uint8_t *tu_read(const char *path, size_t *ret_len);

/* Reads the vector file SUB (tu_vectors() finds it, and skips the test when
 * vectors are absent); fails the test on a read error.  Caller frees. */
uint8_t *tu_vector_file(const char *sub, size_t *ret_len);

/* Asserts that the len bytes at buf, hex-encoded in lowercase, equal hex
 * exactly (so a length mismatch fails too).  Any len. */
void tu_assert_hex(const uint8_t *buf, size_t len, const char *hex);

/* Decodes a hex string of any length (fails the test on bad input); caller frees. */
uint8_t *tu_unhex(const char *hex, size_t *ret_len);

/* Requires MODULE importable by Debian's /usr/bin/python3 (an independent
 * implementation the test compares against, e.g. "jwcrypto", "cbor2"): when
 * it is missing the calling test is skipped with a message, except under
 * CI=true, where the test fails naming the package to install.  Call it
 * before allocating anything the test would otherwise have to free. */
void tu_require_python_module(const char *module);

/* Whether every command of TOOLS (space-separated) is on PATH: the
 * independent tools a cross-check runs (sgdisk, cpio, lz4, ...).  When one is
 * missing, under CI=true the test fails naming it; otherwise the function
 * prints "SKIP: WHAT: TOOL not installed" and returns false, and the caller
 * leaves that cross-check out (or skips the test).  Never silent. */
bool tu_have_tools(const char *tools, const char *what);

/* For an input the test cannot do without (a pinned package in the deps
 * cache, root): under CI=true fails the test with WHY, otherwise prints
 * "SKIP: WHY" and skips it.  Does not return. */
void tu_skip_or_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A fresh private directory under $TMPDIR, removed by tu_rmtree(). */
char *tu_mkdtemp(void);
void tu_rmtree(const char *dir);

#endif
