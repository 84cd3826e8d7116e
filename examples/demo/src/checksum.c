#include "demo.h"

/* Adler-32, the checksum zlib uses. */
uint32_t demo_checksum(const char *data, size_t length) {
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < length; i++) {
        a = (a + (unsigned char)data[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}
