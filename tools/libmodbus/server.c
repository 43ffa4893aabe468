/* libmodbus reference server for TacRS.Hil interop tests and the Modbus benchmark.
 *   server tcp PORT              (127.0.0.1 only)
 *   server rtu DEVICE BAUD PARITY(N|E|O) UNIT
 * Tables: 1000 of each. holding[i] = i, input[i] = 0x1000 + i, discrete[i] = (i % 3 == 0), coils 0.
 * Addresses >= 1000 answer "illegal data address" (libmodbus does that by itself).
 * Prints "READY" on stdout once it listens (TCP) or has opened the port (RTU). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <modbus.h>

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: server tcp PORT | server rtu DEVICE BAUD PARITY UNIT\n"); return 2; }
    modbus_mapping_t *map = modbus_mapping_new(1000, 1000, 1000, 1000);
    for (int i = 0; i < 1000; i++) {
        map->tab_registers[i] = (uint16_t)i;
        map->tab_input_registers[i] = (uint16_t)(0x1000 + i);
        map->tab_input_bits[i] = (i % 3) == 0;
    }
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    if (strcmp(argv[1], "tcp") == 0) {
        modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[2]));
        int listener = modbus_tcp_listen(ctx, 1);
        if (listener < 0) { fprintf(stderr, "listen: %s\n", modbus_strerror(errno)); return 1; }
        printf("READY\n"); fflush(stdout);
        for (;;) {
            if (modbus_tcp_accept(ctx, &listener) < 0) { fprintf(stderr, "accept: %s\n", modbus_strerror(errno)); return 1; }
            for (;;) {
                int rc = modbus_receive(ctx, query);
                if (rc > 0) modbus_reply(ctx, query, rc, map);
                else if (rc == -1) break; /* connection closed: accept the next client */
            }
            close(modbus_get_socket(ctx));
        }
    } else if (strcmp(argv[1], "rtu") == 0 && argc >= 6) {
        modbus_t *ctx = modbus_new_rtu(argv[2], atoi(argv[3]), argv[4][0], 8, 1);
        modbus_set_slave(ctx, atoi(argv[5]));
        if (modbus_connect(ctx) < 0) { fprintf(stderr, "connect: %s\n", modbus_strerror(errno)); return 1; }
        printf("READY\n"); fflush(stdout);
        for (;;) {
            int rc = modbus_receive(ctx, query);
            if (rc > 0) modbus_reply(ctx, query, rc, map);
            else if (rc == -1 && errno != EMBBADCRC && errno != ETIMEDOUT && errno != EMBBADDATA) {
                if (errno == EIO || errno == EBADF) return 0; /* pty closed */
            }
        }
    }
    fprintf(stderr, "bad arguments\n");
    return 2;
}
