/* Runs every registered unit test (optionally those whose name contains
 * argv[1]) and ends with the line "N passed, M failed". */
#include "unit.h"

#include <stdlib.h>

static struct unit_test *tests_head;
static int current_failures;

void unit_register(struct unit_test *t)
{
	t->next = tests_head;
	tests_head = t;
}

void unit_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
	current_failures++;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;
	/* Registration order is reversed; run in source order for readable output. */
	struct unit_test *rev = NULL;
	while (tests_head) {
		struct unit_test *n = tests_head->next;
		tests_head->next = rev;
		rev = tests_head;
		tests_head = n;
	}
	for (struct unit_test *t = rev; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		current_failures = 0;
		t->fn();
		if (current_failures) {
			fprintf(stderr, "FAIL %s\n", t->name);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
