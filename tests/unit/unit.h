/*
 * A small unit-test runner: TEST(name) registers a function at load time;
 * CHECK records a failure with file:line and goes on; REQUIRE returns from the
 * test. tests/unit/main.c runs them all and ends with "N passed, M failed".
 */
#ifndef PULLGATE_TESTS_UNIT_H
#define PULLGATE_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *expr);

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	static struct unit_test unit_##name = { #name, test_##name, 0 };  \
	__attribute__((constructor)) static void unit_reg_##name(void)    \
	{                                                                 \
		unit_register(&unit_##name);                              \
	}                                                                 \
	static void test_##name(void)

#define CHECK(expr)                                                \
	do {                                                       \
		if (!(expr))                                       \
			unit_fail(__FILE__, __LINE__, #expr);      \
	} while (0)

#define REQUIRE(expr)                                              \
	do {                                                       \
		if (!(expr)) {                                     \
			unit_fail(__FILE__, __LINE__, #expr);      \
			return;                                    \
		}                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                          \
	do {                                                                        \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);       \
		if (unit_a_ != unit_b_) {                                           \
			char unit_msg_[256];                                        \
			snprintf(unit_msg_, sizeof unit_msg_, "%s == %s (%lld != %lld)", \
				 #a, #b, unit_a_, unit_b_);                         \
			unit_fail(__FILE__, __LINE__, unit_msg_);                   \
		}                                                                   \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *unit_a_ = (a), *unit_b_ = (b);                     \
		if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {   \
			char unit_msg_[1024];                                   \
			snprintf(unit_msg_, sizeof unit_msg_, "%.100s == \"%.400s\" (got \"%.400s\")", \
				 #a, unit_b_ ? unit_b_ : "(null)", unit_a_ ? unit_a_ : "(null)"); \
			unit_fail(__FILE__, __LINE__, unit_msg_);              \
		}                                                              \
	} while (0)

#endif
