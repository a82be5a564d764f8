/* SPDX-License-Identifier: MIT */
/* cmocka needs these before its header. */
#ifndef WP_TEST_COMMON_H
#define WP_TEST_COMMON_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
