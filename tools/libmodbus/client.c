/* libmodbus reference client for the benchmark: N sequential FC3 reads of 10 registers.
 *   client tcp HOST PORT N
 *   client rtu DEVICE BAUD N [GAP_US]
 * GAP_US: keep that silent interval between the end of one transaction and the next request, slept with
 * clock_nanosleep (the reference for our master's RTU silent interval; libmodbus itself keeps none).
 * Prints one line: "transactions=N seconds=S tps=T p50_us=A p99_us=B cpu_us=C" (C: user+system CPU per transaction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <modbus.h>

static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static double cpu_us(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv)
{
    if (argc < 5) { fprintf(stderr, "usage: client tcp HOST PORT N | client rtu DEVICE BAUD N\n"); return 2; }
    modbus_t *ctx = strcmp(argv[1], "tcp") == 0 ? modbus_new_tcp(argv[2], atoi(argv[3])) : modbus_new_rtu(argv[2], atoi(argv[3]), 'N', 8, 1);
    modbus_set_slave(ctx, 1);
    if (modbus_connect(ctx) < 0) { fprintf(stderr, "connect failed\n"); return 1; }
    int n = atoi(argv[4]);
    long gap_ns = argc > 5 ? atol(argv[5]) * 1000L : 0;
    struct timespec gap = { gap_ns / 1000000000L, gap_ns % 1000000000L };
    double *lat = malloc(sizeof(double) * n);
    uint16_t regs[10];
    for (int i = 0; i < 200; i++) modbus_read_registers(ctx, 0, 10, regs); /* warm-up */
    double start = now_us(), cpu0 = cpu_us();
    for (int i = 0; i < n; i++) {
        double t0 = now_us();
        if (gap_ns > 0) clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL); /* inside the timing, as our master's gap is */
        if (modbus_read_registers(ctx, 0, 10, regs) != 10) { fprintf(stderr, "read failed at %d\n", i); return 1; }
        lat[i] = now_us() - t0;
    }
    double secs = (now_us() - start) / 1e6, cpu = (cpu_us() - cpu0) / n;
    qsort(lat, n, sizeof(double), cmp);
    printf("transactions=%d seconds=%.3f tps=%.0f p50_us=%.1f p99_us=%.1f cpu_us=%.1f\n", n, secs, n / secs, lat[n / 2], lat[(int)(n * 0.99)], cpu);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
