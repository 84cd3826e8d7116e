/*
 * pycache's native client: the `pycache` command a build runs for every
 * compile, when the installation could compile it (native/build.py).
 *
 * It does what the Python client (pycache_core/client.py) does on the path
 * every cached compile takes -- find the server, send the command line, cwd,
 * environment and whether stderr is a terminal, replay stdout, stderr and the
 * exit status, or exec the compiler the server names -- without starting an
 * interpreter: a Python start alone (~9 ms) costs more than ccache's whole
 * hit. Everything else is the Python client's: it is started in this
 * process's place (`delegate`) exactly as the shell launcher bin/pycache
 * starts it, whenever
 *   - the command line is a subcommand (`pycache stats`, `pycache cargo`...),
 *     or anything else that is not a compile;
 *   - a setting needs judgement (PYCACHE_DISABLE or PYCACHE_NO_SERVER not
 *     plainly false, a value this file does not read exactly as Python does);
 *   - no server answers (the Python client starts one, backs off, warns);
 *   - a server fails mid-call: then with `--client-fault CAUSE`, so that the
 *     Python client counts the fault and runs the compiler uncached without
 *     asking the server again;
 *   - an exec of the compiler the server named fails: with
 *     `--client-execute PATH`, so that the Python client reports it as it
 *     would have.
 * So a mistake here costs speed, never a build: an unusual input goes the
 * Python way.
 *
 * Its constants -- the wire format, the server-scoped variables that name a
 * server, the subcommands -- are not written here: native/build.py reads
 * them from the Python modules that own them and generates
 * client_constants.h, so each policy keeps one owner.
 *
 * POSIX and C99 only; no library beyond libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/auxv.h>
#endif
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client_constants.h"

extern char **environ;

/* --- growing byte buffers ------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static void out_of_memory(void);

static void buf_reserve(buf_t *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) out_of_memory();
    b->data = data;
    b->cap = cap;
}

static void buf_add(buf_t *b, const void *data, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

static void buf_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_byte(buf_t *b, char c) { buf_add(b, &c, 1); }

/* `directory/name` as pycache_core.connection.join makes it. */
static void buf_join(buf_t *b, const char *directory, const char *name) {
    buf_str(b, directory);
    size_t n = strlen(directory);
    if (n && directory[n - 1] != '/') buf_byte(b, '/');
    buf_str(b, name);
}

/* --- BLAKE2b (RFC 7693), for the server's fingerprint -------------------- */
/* pycache_core.connection.server_fingerprint is blake2b(digest_size=8) of the
 * server scope's text; this is the same function, written from the RFC. */

static const uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static void blake2b_compress(uint64_t h[8], const uint8_t block[128], uint64_t count, int last) {
    uint64_t v[16], m[16];
    for (int i = 0; i < 16; i++) {
        m[i] = 0;
        for (int j = 7; j >= 0; j--) m[i] = (m[i] << 8) | block[8 * i + j];
    }
    for (int i = 0; i < 8; i++) v[i] = h[i], v[i + 8] = blake2b_iv[i];
    v[12] ^= count; /* the high word of the 128-bit counter stays 0 here */
    if (last) v[14] = ~v[14];
#define G(a, b, c, d, x, y)                  \
    do {                                     \
        v[a] = v[a] + v[b] + (x);            \
        v[d] = rotr64(v[d] ^ v[a], 32);      \
        v[c] = v[c] + v[d];                  \
        v[b] = rotr64(v[b] ^ v[c], 24);      \
        v[a] = v[a] + v[b] + (y);            \
        v[d] = rotr64(v[d] ^ v[a], 16);      \
        v[c] = v[c] + v[d];                  \
        v[b] = rotr64(v[b] ^ v[c], 63);      \
    } while (0)
    for (int r = 0; r < 12; r++) {
        const uint8_t *s = blake2b_sigma[r];
        G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
#undef G
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

/* blake2b(data, digest_size=8).hexdigest() into hex[17]. */
static void blake2b_8_hex(const char *data, size_t len, char hex[17]) {
    uint64_t h[8];
    uint8_t block[128];
    memcpy(h, blake2b_iv, sizeof h);
    h[0] ^= 0x01010000ULL ^ 8; /* no key, 8-byte digest */
    size_t done = 0;
    while (len - done > 128) {
        memcpy(block, data + done, 128);
        done += 128;
        blake2b_compress(h, block, done, 0);
    }
    memset(block, 0, sizeof block);
    memcpy(block, data + done, len - done);
    blake2b_compress(h, block, len, 1);
    for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", (unsigned)((h[0] >> (8 * i)) & 0xff));
}

/* --- this program, as run, and the Python client beside it --------------- */

static char **args;      /* our argv */
static int nargs;
static const char *as_run; /* this program as a shell's $0 would name it: the path it was executed by */
static const char *here;   /* the directory pycache-python is in */

static int is_executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Where execvp found `name` (no slash): the first PATH entry holding it. */
static char *find_on_path(const char *name) {
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        buf_t candidate = {0};
        if (n) {
            buf_add(&candidate, p, n);
            if (p[n - 1] != '/') buf_byte(&candidate, '/');
        }
        buf_str(&candidate, name);
        if (is_executable_file(candidate.data)) return candidate.data;
        free(candidate.data);
        if (!end) return NULL;
        p = end + 1;
    }
}

static void locate_ourselves(void) {
    const char *argv0 = nargs > 0 && args[0] ? args[0] : "";
    as_run = argv0;
#ifdef __linux__
    /* The path execve was given: what a shell gives a script as $0 (argv[0]
     * is whatever the caller chose, often a bare name). */
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    if (execfn && *execfn) {
        as_run = execfn;
        argv0 = execfn;
    }
#endif
    if (!strchr(argv0, '/')) {
        char *found = *argv0 ? find_on_path(argv0) : NULL;
        if (found) {
            as_run = found;
        } else {
            static char self[PATH_MAX];
            ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
            if (n > 0) self[n] = 0, as_run = self;
        }
    }
    /* The shell launcher's rule: the directory of $0 (relative to the working
     * directory), else -- a link from elsewhere -- of where the link leads. */
    buf_t dir = {0};
    const char *slash = strrchr(as_run, '/');
    if (as_run[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) buf_str(&dir, cwd);
        if (slash) buf_byte(&dir, '/');
    }
    if (slash) buf_add(&dir, as_run, (size_t)(slash - as_run));
    if (!dir.data) buf_str(&dir, "");
    buf_t client = {0};
    buf_join(&client, dir.data, "pycache-python");
    struct stat st;
    if (stat(client.data, &st) != 0 || !S_ISREG(st.st_mode)) {
        char *real = realpath(as_run, NULL);
        if (real) {
            char *last = strrchr(real, '/');
            if (last) *last = 0;
            free(dir.data);
            dir.data = real;
        }
    }
    free(client.data);
    here = dir.data;
}

/* Start the Python client in this process's place, as bin/pycache does:
 * isolated and without site with the interpreter its "#!" line names when
 * that is a plain path to a python, else as a script. `flag`, `value`: a
 * hand-over (--client-fault CAUSE, --client-execute PATH), or NULL. */
static void delegate(const char *flag, const char *value) {
    buf_t client = {0};
    buf_join(&client, here, "pycache-python");
    char line[4096] = {0};
    FILE *f = fopen(client.data, "r");
    int plain = 0;
    if (f) {
        if (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            const char *python = line + 2;
            const char *base = strrchr(python, '/');
            plain = strncmp(line, "#!/", 3) == 0 && base && strncmp(base + 1, "python", 6) == 0 &&
                    strspn(python, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-") ==
                        strlen(python);
        }
        fclose(f);
    }
    char **argv = calloc((size_t)nargs + 10, sizeof *argv);
    if (!argv) out_of_memory();
    int n = 0;
    if (plain) argv[n++] = line + 2, argv[n++] = "-I", argv[n++] = "-S";
    argv[n++] = client.data;
    argv[n++] = "--argv0";
    argv[n++] = (char *)as_run;
    if (flag) argv[n++] = (char *)flag, argv[n++] = (char *)value;
    for (int i = 1; i < nargs; i++) argv[n++] = args[i];
    argv[n] = NULL;
    execv(argv[0], argv);
    fprintf(stderr, "pycache: cannot start its client %s: %s\n", argv[0], strerror(errno));
    exit(127);
}

static void out_of_memory(void) { delegate(NULL, NULL); }

/* The server misbehaved after the request was sent: the Python client
 * records why and runs the compiler uncached. */
static void fault(const char *format, const char *detail) {
    char cause[2048];
    snprintf(cause, sizeof cause, format, detail);
    delegate("--client-fault", cause);
}

/* An OSError as Python words it ("ConnectionResetError: [Errno 104] ..."). */
static void os_fault(int error) {
    const char *name = error == ECONNRESET ? "ConnectionResetError" : error == EPIPE ? "BrokenPipeError" : "OSError";
    char cause[512];
    snprintf(cause, sizeof cause, "%s: [Errno %d] %s", name, error, strerror(error));
    fault("%s", cause);
}

/* --- settings, read exactly as pycache_core.env reads them, or not at all */

/* Python's str.strip() of an ASCII text; 0 when `value` is not ASCII (its
 * Unicode whitespace and case rules are then Python's business). */
static int ascii_strip(const char *value, const char **start, size_t *len) {
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p >= 0x80) return 0;
    const char *space = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
    const char *s = value, *e = value + strlen(value);
    while (s < e && strchr(space, *s)) s++;
    while (e > s && strchr(space, e[-1])) e--;
    *start = s;
    *len = (size_t)(e - s);
    return 1;
}

/* 1: pycache_core.env.is_true; 0: false; -1: not sure (Python decides). */
static int is_true(const char *value) {
    const char *s;
    size_t n;
    if (!value) return 0;
    if (!ascii_strip(value, &s, &n)) return -1;
    for (const char *const *word = PYC_TRUE_WORDS; *word; word++) {
        if (strlen(*word) != n) continue;
        size_t i = 0;
        while (i < n && (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) == (*word)[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

/* The first value of each name, as os.environ keeps it. */
static int first_of_its_name(char **entry) {
    size_t n = (size_t)(strchr(*entry, '=') - *entry);
    for (char **e = environ; e < entry; e++)
        if (strncmp(*e, *entry, n) == 0 && (*e)[n] == '=') return 0;
    return 1;
}

static int compare_strings(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void rstrip_slashes(buf_t *b) {
    while (b->len && b->data[b->len - 1] == '/') b->data[--b->len] = 0;
}

/* pycache_core.env.config_file; 0 where Python's rule needs more than this. */
static int config_file(buf_t *path) {
    const char *explicit_path = getenv(PYC_ENV_CONFIG);
    if (explicit_path && *explicit_path) {
        buf_str(path, explicit_path);
        return 1;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) return 0;
    buf_t base = {0};
#ifdef __APPLE__
    buf_str(&base, home);
    rstrip_slashes(&base);
    buf_str(&base, "/Library/Application Support");
#else
    const char *xdg = getenv("XDG_CONFIG_HOME"), *s = "";
    size_t n = 0;
    if (xdg && !ascii_strip(xdg, &s, &n)) return 0;
    if (n) {
        buf_add(&base, s, n);
    } else {
        buf_str(&base, home);
        rstrip_slashes(&base);
        buf_str(&base, "/.config");
    }
#endif
    rstrip_slashes(&base);
    buf_str(path, base.data);
    buf_str(path, "/pycache/" PYC_CONFIG_FILE_NAME);
    free(base.data);
    return 1;
}

/* pycache_core.connection.server_fingerprint into hex[17]; 0: let Python. */
static int server_fingerprint(char hex[17]) {
    buf_t text = {0};
    buf_str(&text, "protocol=" PYC_PROTOCOL_VERSION);
    for (const char *const *name = PYC_SERVER_SCOPED; *name; name++) {
        const char *value = getenv(*name);
        buf_byte(&text, 0);
        buf_str(&text, *name);
        buf_byte(&text, '=');
        buf_str(&text, value ? value : "");
    }
    /* Prefix-matched variables, sorted as Python sorts str: byte order is
     * code point order for ASCII, so anything else is Python's. */
    size_t count = 0;
    for (char **e = environ; *e; e++) count++;
    char **matched = calloc(count + 1, sizeof *matched);
    if (!matched) out_of_memory();
    size_t found = 0;
    for (char **e = environ; *e; e++) {
        if (!strchr(*e, '=')) continue;
        for (const char *const *prefix = PYC_SERVER_SCOPED_PREFIXES; *prefix; prefix++) {
            if (strncmp(*e, *prefix, strlen(*prefix)) != 0 || !first_of_its_name(e)) continue;
            for (const char *p = *e; *p; p++)
                if ((unsigned char)*p >= 0x80) return 0;
            matched[found++] = *e;
            break;
        }
    }
    qsort(matched, found, sizeof *matched, compare_strings);
    for (size_t i = 0; i < found; i++) buf_byte(&text, 0), buf_str(&text, matched[i]);
    free(matched);
    buf_t path = {0};
    if (!config_file(&path)) return 0;
    buf_byte(&text, 0);
    buf_str(&text, "config file ");
    buf_str(&text, path.data);
    buf_byte(&text, '=');
    struct stat st;
    if (stat(path.data, &st) == 0) {
        char stamp[96];
        long long mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        snprintf(stamp, sizeof stamp, "%llu:%lld:%lld", (unsigned long long)st.st_ino, (long long)st.st_size,
                 mtime_ns);
        buf_str(&text, stamp);
    } else {
        buf_str(&text, "absent");
    }
    free(path.data);
    blake2b_8_hex(text.data, text.len, hex);
    free(text.data);
    return 1;
}

/* pycache_core.connection.runtime_dir, checked the same way; 0: let Python
 * (it creates, refuses or reports it). */
static int runtime_dir(buf_t *dir) {
    const char *base = getenv(PYC_ENV_RUNTIME_DIR);
    if (base && *base) {
        buf_str(dir, base);
    } else {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg) {
            buf_join(dir, xdg, "pycache");
        } else {
            char name[64];
            snprintf(name, sizeof name, "pycache-%u", (unsigned)getuid());
            buf_join(dir, "/tmp", name);
        }
    }
    if (mkdir(dir->data, 0700) != 0 && errno != EEXIST) return 0;
    struct stat st;
    return lstat(dir->data, &st) == 0 && st.st_uid == getuid() && !(st.st_mode & 077) && S_ISDIR(st.st_mode);
}

/* pycache_core.connection.silence_timeout, in milliseconds; -1: let Python. */
static int silence_timeout_ms(void) {
    const char *value = getenv(PYC_ENV_SERVER_TIMEOUT), *s;
    size_t n;
    if (!value || !*value) return (int)(PYC_SILENCE_TIMEOUT * 1000);
    if (!ascii_strip(value, &s, &n) || !n || strspn(s, "0123456789.") < n) return -1;
    char plain[64];
    if (n >= sizeof plain) return -1;
    memcpy(plain, s, n);
    plain[n] = 0;
    char *end;
    double seconds = strtod(plain, &end);
    if (*end) return -1;
    if (!(seconds > 0 && seconds <= 86400)) seconds = PYC_SILENCE_TIMEOUT;
    return (int)(seconds * 1000 + 0.5) > 0 ? (int)(seconds * 1000 + 0.5) : 1;
}

/* --- the exchange with the server ---------------------------------------- */

static void field(buf_t *request, const char *text) {
    if (request->len > 8) buf_byte(request, 0);
    buf_str(request, text);
}

static void send_all(int sock, const char *data, size_t len) {
    while (len) {
        ssize_t n = send(sock, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return; /* it may have answered without reading */
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) fault("TimeoutError: %s", "timed out");
        if (n < 0) os_fault(errno);
        data += n;
        len -= (size_t)n;
    }
}

static void write_all(int fd, const char *data, size_t len) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) { /* a non-blocking descriptor we were given */
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, -1);
            continue;
        }
        if (n < 0) exit(1);
        data += n;
        len -= (size_t)n;
    }
}

/* Read more from the server into `in`; 0 at the end of the stream. */
static size_t receive(int sock, buf_t *in, int timeout_ms, const char *what) {
    struct pollfd p = {sock, POLLIN, 0};
    for (;;) {
        int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) fault("TimeoutError: %s", "timed out");
        if (ready < 0) os_fault(errno);
        buf_reserve(in, 65536);
        ssize_t n = recv(sock, in->data + in->len, 65536, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) os_fault(errno);
        if (n == 0) fault("ConnectionError: server closed the connection %s", what);
        in->len += (size_t)n;
        return (size_t)n;
    }
}

static uint32_t le32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/* The body of the reply frame (pycache_core.connection.read_frame): keepalive
 * bytes skipped, early stderr frames written as they come. */
static char *read_reply(int sock, int timeout_ms, size_t *size) {
    buf_t in = {0};
    size_t start = 0;
    for (;;) {
        while (start < in.len && in.data[start] == PYC_KEEPALIVE) start++;
        size_t have = in.len - start;
        if (have >= 8 && memcmp(in.data + start, PYC_EARLY, 4) == 0) {
            uint32_t n = le32(in.data + start + 4);
            if ((uint64_t)n > PYC_MAX_FRAME) fault("ValueError: %s", "early frame from server refused (too long)");
            while (in.len - start < 8 + (size_t)n) receive(sock, &in, timeout_ms, "mid-reply");
            write_all(2, in.data + start + 8, n);
            start += 8 + n;
            continue;
        }
        if (have >= 8) break;
        receive(sock, &in, timeout_ms, "without a reply");
    }
    if (memcmp(in.data + start, PYC_MAGIC, 4) != 0) {
        /* As Python words it: the first 16 bytes, as a bytes literal. */
        char shown[80] = "b'";
        size_t at = 2;
        for (size_t i = start; i < in.len && i < start + 16; i++) {
            unsigned char c = (unsigned char)in.data[i];
            const char *escape = c == '\\' ? "\\\\" : c == '\'' ? "\\'" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (escape) at += (size_t)snprintf(shown + at, sizeof shown - at, "%s", escape);
            else if (c < 32 || c >= 127) at += (size_t)snprintf(shown + at, sizeof shown - at, "\\x%02x", c);
            else shown[at++] = (char)c;
        }
        snprintf(shown + at, sizeof shown - at, "'");
        fault("ValueError: unexpected bytes from server: %s", shown);
    }
    uint32_t n = le32(in.data + start + 4);
    if ((uint64_t)n > PYC_MAX_FRAME) fault("ValueError: %s", "frame from server refused (too long)");
    while (in.len - start < 8 + (size_t)n) receive(sock, &in, timeout_ms, "mid-reply");
    *size = n;
    return in.data + start + 8;
}

static int parse_size(const char *text, long long *value) {
    char *end;
    errno = 0;
    *value = strtoll(text, &end, 10);
    return !errno && end != text && !*end;
}

/* --- one compile ---------------------------------------------------------- */

static void compile(char **command, int ncommand) {
    int disable = is_true(getenv(PYC_ENV_DISABLE)), no_server = is_true(getenv(PYC_ENV_NO_SERVER));
    if (disable || no_server) delegate(NULL, NULL); /* Python's way, or not sure */
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) delegate(NULL, NULL);
    char fingerprint[17];
    buf_t dir = {0}, sock_path = {0};
    int timeout_ms = silence_timeout_ms();
    if (timeout_ms < 0 || !server_fingerprint(fingerprint) || !runtime_dir(&dir)) delegate(NULL, NULL);
    buf_join(&sock_path, dir.data, "s-");
    buf_str(&sock_path, fingerprint);
    buf_str(&sock_path, ".sock");
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (sock_path.len >= sizeof address.sun_path) delegate(NULL, NULL);
    memcpy(address.sun_path, sock_path.data, sock_path.len + 1);

    /* The request (pycache_core.protocol.encode_compile). */
    buf_t request = {0};
    buf_add(&request, PYC_MAGIC "\0\0\0\0", 8);
    field(&request, "compile");
    field(&request, fingerprint);
    field(&request, cwd);
    field(&request, isatty(2) ? "1" : "0");
    buf_t self_exe = {0};
    if (as_run[0] == '/' || !*as_run) buf_str(&self_exe, as_run);
    else buf_join(&self_exe, cwd, as_run);
    field(&request, self_exe.data);
    mode_t mask = umask(022);
    umask(mask);
    char number[32];
    snprintf(number, sizeof number, "%o", (unsigned)mask);
    field(&request, number);
    snprintf(number, sizeof number, "%d", ncommand);
    field(&request, number);
    for (int i = 0; i < ncommand; i++) field(&request, command[i]);
    for (char **e = environ; *e; e++)
        if (strchr(*e, '=') && first_of_its_name(e)) field(&request, *e);
    uint32_t body = (uint32_t)(request.len - 8);
    for (int i = 0; i < 4; i++) request.data[4 + i] = (char)((body >> (8 * i)) & 0xff);

    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) delegate(NULL, NULL);
    struct timeval connect_timeout = {PYC_CONNECT_TIMEOUT_MS / 1000, (PYC_CONNECT_TIMEOUT_MS % 1000) * 1000};
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &connect_timeout, sizeof connect_timeout);
    if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) delegate(NULL, NULL); /* Python starts one */
    send_all(sock, request.data, request.len);

    size_t size;
    char *reply = read_reply(sock, timeout_ms, &size);
    close(sock);
    /* "status exit_code outcome stdout_len stderr_len execute_len\n" + bytes
     * (pycache_core.protocol.decode_reply). */
    char *newline = memchr(reply, '\n', size);
    if (!newline) fault("ValueError: %s", "reply without a header");
    *newline = 0;
    char *word[7] = {0};
    int words = 0;
    for (char *p = reply; words < 7;) {
        word[words++] = p;
        char *space = strchr(p, ' ');
        if (!space) break;
        *space = 0;
        p = space + 1;
    }
    long long code, n_out, n_err, n_exe;
    if (words != 6 || !parse_size(word[1], &code) || !parse_size(word[3], &n_out) || !parse_size(word[4], &n_err) ||
        !parse_size(word[5], &n_exe) || n_out < 0 || n_err < 0 || n_exe < 0)
        fault("ValueError: %s", "malformed reply header");
    char *data = newline + 1;
    if ((unsigned long long)(n_out + n_err + n_exe) != size - (size_t)(data - reply))
        fault("ValueError: %s", "reply length mismatch");
    if (strcmp(word[0], "ok") != 0) {
        char cause[1024];
        snprintf(cause, sizeof cause, "ValueError: server answered %s: %.*s", word[0],
                 (int)(n_err < 900 ? n_err : 900), data + n_out);
        delegate("--client-fault", cause);
    }
    if (n_exe) {
        /* Run it ourselves (pycache_core.client.exec_compiler): named by the
         * caller's name when that is a path, else by the path it is at. */
        char *execute = strndup(data + n_out + n_err, (size_t)n_exe);
        if (!execute) out_of_memory();
        if (strchr(execute, '/') && !memchr(execute, 0, (size_t)n_exe)) {
            char *argv0 = strchr(command[0], '/') ? command[0] : execute;
            command[0] = argv0;
            execv(execute, command);
        }
        delegate("--client-execute", execute); /* the error, as the Python client words it */
    }
    write_all(1, data, (size_t)n_out);
    write_all(2, data + n_out, (size_t)n_err);
    if (code < 0 && code > -65) { /* the compiler died of a signal: die of the same one */
        signal((int)-code, SIG_DFL);
        kill(getpid(), (int)-code);
    }
    _exit((int)code);
}

/* --- which form of the command this is (pycache_core.client._dispatch) ---- */

static int starts_with(const char *text, const char *prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

static int is_subcommand(const char *word) {
    if (word[0] == '-') return 1;
    for (const char *const *c = PYC_COMMANDS; *c; c++)
        if (strcmp(word, *c) == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    args = argv;
    nargs = argc;
    locate_ourselves();
    const char *program = strrchr(as_run, '/') ? strrchr(as_run, '/') + 1 : as_run;
    if (!starts_with(program, "pycache") && strcmp(program, "__main__.py") != 0 && strcmp(program, "client.py") != 0) {
        /* Masquerade: run as the compiler, by a link named like it. */
        argv[0] = (char *)program;
        compile(argv, argc);
    }
    char **rest = argv + 1;
    int nrest = argc - 1;
    if (nrest && strcmp(rest[0], "wrap") == 0) {
        rest++, nrest--;
        if (nrest && strcmp(rest[0], "--") == 0) rest++, nrest--;
        else if (nrest && (strcmp(rest[0], "--help") == 0 || strcmp(rest[0], "-h") == 0)) delegate(NULL, NULL);
        if (nrest) compile(rest, nrest);
        delegate(NULL, NULL);
    }
    if (!nrest || is_subcommand(rest[0])) delegate(NULL, NULL);
    compile(rest, nrest);
    return 0;
}
