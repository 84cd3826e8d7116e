#ifndef DEMO_H
#define DEMO_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
uint32_t demo_checksum(const char *data, size_t length);
int demo_format_hex(uint32_t value, char *out, size_t size);
#ifdef __cplusplus
}
#endif
#endif
