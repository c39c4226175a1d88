/* hex: the value of one hexadecimal digit. */
#ifndef PULLGATE_CORE_HEX_H
#define PULLGATE_CORE_HEX_H

/* 0-15 for a hexadecimal digit of either case, -1 for anything else. */
static inline int hex_digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
