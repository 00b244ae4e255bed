/*
 * montgomery-sum: the vault's homomorphic sum in plain C over libcrypto, as the yardstick for
 * `eduvault bench --sum-vault` / `--sum-file` (Benchmarks/montgomery-sum.sh runs them side by side).
 *
 * It does what the engine does per record and nothing more: read the stored ciphertext bytes, BN_bin2bn them into
 * one reused BIGNUM, check 0 < c < n², and multiply them into the record's cell with one BN_mod_mul_montgomery
 * (one thread, one accumulator per cell, the R^-(k-1) factor removed once per cell at the end of each pass, inside
 * the timed window as in the engine; hashing the sums is not timed).
 *
 * Usage:
 *   montgomery-sum vault  PLAN VAULT.sqlite PASSES   sum straight from SQLite (SELECT atom_id, ciphertext ...)
 *   montgomery-sum flat   PLAN FLAT.bin     PASSES   sum from a flat in-memory buffer (file read before timing)
 *   montgomery-sum export PLAN VAULT.sqlite FLAT.bin write the records as a flat file: per record the atom id
 *                                                    (8 bytes, little-endian) then the ciphertext (width bytes)
 * PLAN is what `eduvault bench --sum-vault DIR --sum-plan-out PLAN` writes: the width, n² and each atom's cell.
 * Prints one line: records, cells, passes, cpu_s (user+sys of this process during the passes), wall_s, and the
 * SHA-256 over every non-empty cell's sum (width bytes each, in cell order) so the script can check that both
 * programs computed the same sums.
 *
 * Build: cc -O2 -o montgomery-sum montgomery-sum.c -lcrypto -lsqlite3
 */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void die(const char *what) {
    fprintf(stderr, "montgomery-sum: %s\n", what);
    exit(1);
}

static double cpu_seconds(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) die("getrusage failed");
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) die("clock_gettime failed");
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct plan {
    int width;
    int cells;
    BIGNUM *modulus;
    int32_t *cell_of_atom; /* indexed by atom id; -1 = not in any cell */
    int64_t atom_limit;
};

static void read_plan(const char *path, struct plan *p) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open the plan");
    char tag[64], hex[4096];
    long long atoms;
    if (fscanf(f, "%63s width %d cells %d atoms %lld modulus %4095s", tag, &p->width, &p->cells, &atoms, hex) != 5 ||
        strcmp(tag, "eduvault-sum-plan/1") != 0 || p->width <= 0 || p->width > 2048 || p->cells <= 0 || atoms < 0)
        die("not a sum plan");
    p->modulus = NULL;
    if (BN_hex2bn(&p->modulus, hex) == 0) die("bad modulus");
    p->atom_limit = 1;
    long long *pairs = malloc(sizeof(long long) * 2 * (size_t)(atoms + 1));
    if (!pairs) die("out of memory");
    for (long long i = 0; i < atoms; i++) {
        if (fscanf(f, "%lld %lld", &pairs[2 * i], &pairs[2 * i + 1]) != 2 || pairs[2 * i] <= 0 ||
            pairs[2 * i + 1] < 0 || pairs[2 * i + 1] >= p->cells)
            die("bad plan line");
        if (pairs[2 * i] + 1 > p->atom_limit) p->atom_limit = pairs[2 * i] + 1;
    }
    fclose(f);
    p->cell_of_atom = malloc(sizeof(int32_t) * (size_t)p->atom_limit);
    if (!p->cell_of_atom) die("out of memory");
    for (int64_t i = 0; i < p->atom_limit; i++) p->cell_of_atom[i] = -1;
    for (long long i = 0; i < atoms; i++) p->cell_of_atom[pairs[2 * i]] = (int32_t)pairs[2 * i + 1];
    free(pairs);
}

/* One accumulator per cell, as each engine worker keeps. */
struct sums {
    BIGNUM **acc;
    BIGNUM **res;
    long *count;
    BIGNUM *scratch;
    BN_CTX *ctx;
    BN_MONT_CTX *mont;
    const struct plan *plan;
};

static void sums_init(struct sums *s, const struct plan *p) {
    s->plan = p;
    s->acc = calloc((size_t)p->cells, sizeof(BIGNUM *));
    s->res = calloc((size_t)p->cells, sizeof(BIGNUM *));
    s->count = calloc((size_t)p->cells, sizeof(long));
    s->scratch = BN_new();
    s->ctx = BN_CTX_new();
    s->mont = BN_MONT_CTX_new();
    if (!s->acc || !s->res || !s->count || !s->scratch || !s->ctx || !s->mont) die("out of memory");
    if (!BN_MONT_CTX_set(s->mont, p->modulus, s->ctx)) die("BN_MONT_CTX_set failed");
    for (int i = 0; i < p->cells; i++)
        if (!(s->acc[i] = BN_new()) || !(s->res[i] = BN_new())) die("out of memory");
}

static void sums_reset(struct sums *s) {
    for (int i = 0; i < s->plan->cells; i++) s->count[i] = 0;
}

/* The hot path: one record. */
static inline void sums_add(struct sums *s, int64_t atom, const unsigned char *bytes, int n) {
    if (atom <= 0 || atom >= s->plan->atom_limit) return;
    int32_t cell = s->plan->cell_of_atom[atom];
    if (cell < 0) return;
    if (n != s->plan->width) die("a stored ciphertext does not have the key's width");
    if (!BN_bin2bn(bytes, n, s->scratch)) die("BN_bin2bn failed");
    if (BN_is_zero(s->scratch) || BN_ucmp(s->scratch, s->plan->modulus) >= 0) die("a ciphertext is out of range");
    if (s->count[cell] == 0) {
        if (!BN_copy(s->acc[cell], s->scratch)) die("BN_copy failed");
    } else if (!BN_mod_mul_montgomery(s->acc[cell], s->acc[cell], s->scratch, s->mont, s->ctx)) {
        die("BN_mod_mul_montgomery failed");
    }
    s->count[cell]++;
}

/* Removes R^-(k-1) from every cell (part of every timed pass, as in the engine): res[i] = acc[i]·R^(k-1) mod m. */
static void sums_finalize(struct sums *s) {
    const struct plan *p = s->plan;
    BIGNUM *one = BN_new(), *r = BN_new(), *e = BN_new(), *corr = BN_new();
    if (!one || !r || !e || !corr) die("out of memory");
    if (!BN_set_word(one, 1) || !BN_to_montgomery(r, one, s->mont, s->ctx)) die("BN_to_montgomery failed");
    for (int i = 0; i < p->cells; i++) {
        if (s->count[i] == 0) continue;
        if (!BN_set_word(e, (BN_ULONG)(s->count[i] - 1)) || !BN_mod_exp_mont(corr, r, e, p->modulus, s->ctx, s->mont) ||
            !BN_mod_mul(s->res[i], s->acc[i], corr, p->modulus, s->ctx))
            die("finalising a cell failed");
    }
    BN_free(one); BN_free(r); BN_free(e); BN_free(corr);
}

/* Hashes the finalised sums (width bytes each, non-empty cells in order). */
static void sums_digest(struct sums *s, char out[65], long *records) {
    const struct plan *p = s->plan;
    unsigned char *buf = malloc((size_t)p->width);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!buf || !md) die("out of memory");
    if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) die("EVP_DigestInit_ex failed");
    *records = 0;
    for (int i = 0; i < p->cells; i++) {
        if (s->count[i] == 0) continue;
        *records += s->count[i];
        if (BN_bn2binpad(s->res[i], buf, p->width) != p->width) die("BN_bn2binpad failed");
        if (!EVP_DigestUpdate(md, buf, (size_t)p->width)) die("EVP_DigestUpdate failed");
    }
    unsigned char digest[32];
    unsigned int len = 0;
    if (!EVP_DigestFinal_ex(md, digest, &len) || len != 32) die("EVP_DigestFinal_ex failed");
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
    EVP_MD_CTX_free(md);
    free(buf);
}

static sqlite3_stmt *open_scan(const char *path, sqlite3 **db) {
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("cannot open the vault database");
    sqlite3_stmt *stmt = NULL;
    /* The engine's scan (Vault.recordSelect with no filter). */
    if (sqlite3_prepare_v2(*db, "SELECT atom_id, ciphertext FROM records ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(*db));
    return stmt;
}

static void sum_vault(struct sums *s, sqlite3_stmt *stmt) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER) die("a stored record has no atom");
        int64_t atom = sqlite3_column_int64(stmt, 0);
        const unsigned char *bytes = sqlite3_column_blob(stmt, 1);
        int n = sqlite3_column_bytes(stmt, 1);
        if (!bytes) die("a stored record has no ciphertext");
        sums_add(s, atom, bytes, n);
    }
    if (rc != SQLITE_DONE) die("reading records failed");
    if (sqlite3_reset(stmt) != SQLITE_OK) die("sqlite3_reset failed");
}

int main(int argc, char **argv) {
    if (argc != 5) die("usage: montgomery-sum vault|flat PLAN INPUT PASSES, or export PLAN VAULT.sqlite FLAT.bin");
    struct plan plan;
    read_plan(argv[2], &plan);
    const char *mode = argv[1];
    if (strcmp(mode, "export") == 0) {
        sqlite3 *db;
        sqlite3_stmt *stmt = open_scan(argv[3], &db);
        FILE *out = fopen(argv[4], "wb");
        if (!out) die("cannot write the flat file");
        int rc;
        long n = 0;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            int64_t atom = sqlite3_column_int64(stmt, 0);
            unsigned char le[8];
            for (int i = 0; i < 8; i++) le[i] = (unsigned char)((uint64_t)atom >> (8 * i));
            const void *bytes = sqlite3_column_blob(stmt, 1);
            if (!bytes || sqlite3_column_bytes(stmt, 1) != plan.width) die("a stored ciphertext does not have the key's width");
            if (fwrite(le, 1, 8, out) != 8 || fwrite(bytes, 1, (size_t)plan.width, out) != (size_t)plan.width)
                die("write failed");
            n++;
        }
        if (rc != SQLITE_DONE || fclose(out) != 0) die("export failed");
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        fprintf(stderr, "exported %ld records\n", n);
        return 0;
    }
    int passes = atoi(argv[4]);
    if (passes < 1) die("PASSES must be at least 1");
    struct sums s;
    sums_init(&s, &plan);
    double cpu0, wall0, cpu1, wall1;
    if (strcmp(mode, "vault") == 0) {
        sqlite3 *db;
        sqlite3_stmt *stmt = open_scan(argv[3], &db);
        cpu0 = cpu_seconds();
        wall0 = wall_seconds();
        for (int pass = 0; pass < passes; pass++) {
            sums_reset(&s);
            sum_vault(&s, stmt);
            sums_finalize(&s);
        }
        cpu1 = cpu_seconds();
        wall1 = wall_seconds();
        sqlite3_finalize(stmt);
        sqlite3_close(db);
    } else if (strcmp(mode, "flat") == 0) {
        FILE *f = fopen(argv[3], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) die("cannot read the flat file");
        long size = ftell(f);
        size_t stride = 8 + (size_t)plan.width;
        if (size < 0 || (size_t)size % stride != 0 || fseek(f, 0, SEEK_SET) != 0) die("not a flat file for this plan");
        unsigned char *buf = malloc((size_t)size + 1);
        if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) die("cannot read the flat file");
        fclose(f);
        size_t records = (size_t)size / stride;
        cpu0 = cpu_seconds();
        wall0 = wall_seconds();
        for (int pass = 0; pass < passes; pass++) {
            sums_reset(&s);
            for (size_t i = 0; i < records; i++) {
                const unsigned char *rec = buf + i * stride;
                uint64_t atom = 0;
                for (int b = 7; b >= 0; b--) atom = (atom << 8) | rec[b];
                sums_add(&s, (int64_t)atom, rec + 8, plan.width);
            }
            sums_finalize(&s);
        }
        cpu1 = cpu_seconds();
        wall1 = wall_seconds();
        free(buf);
    } else {
        die("unknown mode");
    }
    char digest[65];
    long records;
    sums_digest(&s, digest, &records);
    printf("records %ld cells %d passes %d cpu_s %.4f wall_s %.4f digest %s\n", records, plan.cells, passes,
           cpu1 - cpu0, wall1 - wall0, digest);
    return 0;
}
