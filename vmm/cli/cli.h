/* sluice: command-line helpers shared by the subcommands. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit statuses; see README.md "Exit status". */
enum {
	SLUICE_EXIT_OK = 0,
	SLUICE_EXIT_FAIL = 1,	/* runtime failure after a valid start */
	SLUICE_EXIT_USAGE = 2,	/* bad input: nothing on the host changed */
};

/*
 * Parse a size: decimal digits with an optional K, M, G or T suffix (powers
 * of 1024; a trailing B or iB is accepted). 0 or -EINVAL / -ERANGE.
 */
int cli_parse_size(const char *s, uint64_t *out);

/* Parse an unsigned decimal integer in [min, max]. 0 or -EINVAL / -ERANGE. */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/*
 * getopt_long takes any unique prefix (--mem for --memory); sluice does not, so
 * that a later option cannot change what a script's abbreviation means. @tok is
 * the argument getopt_long just read the long option @lo from.
 */
bool cli_spelled_out(const char *tok, const struct option *lo);

#endif
