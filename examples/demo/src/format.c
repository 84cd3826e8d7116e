#include <stdio.h>
#include "demo.h"

int demo_format_hex(uint32_t value, char *out, size_t size) {
    return snprintf(out, size, "0x%08x", (unsigned)value);
}
