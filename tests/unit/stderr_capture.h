/*
 * Unit-test helper: capture what the code under test writes to stderr (fd 2)
 * in a temporary file, to count the lines a flood of guest actions logs.
 */
#ifndef SLUICE_TEST_STDERR_CAPTURE_H
#define SLUICE_TEST_STDERR_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct capture {
	int saved;	/* the real stderr */
	FILE *f;	/* where fd 2 points meanwhile */
};

static inline void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	assert_non_null(c->f);
	c->saved = dup(2);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->f), 2) == 2);
}

/* Restores stderr; returns the captured text (free it) and its line count. */
static inline char *capture_end(struct capture *c, unsigned *lines)
{
	long len;
	char *buf;
	size_t i;

	fflush(stderr);
	assert_true(dup2(c->saved, 2) == 2);
	close(c->saved);
	len = ftell(c->f);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(c->f);
	assert_true(fread(buf, 1, (size_t)len, c->f) == (size_t)len);
	fclose(c->f);
	*lines = 0;
	for (i = 0; i < (size_t)len; i++)
		*lines += buf[i] == '\n';
	return buf;
}

#endif
