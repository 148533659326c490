/*
 * ace-exit: end the test VM with a status (runs inside the guest, PID 1 child).
 *
 * Usage: ace-exit N     (0 <= N <= 127)
 *
 * Writes N to the isa-debug-exit port (QEMU -device
 * isa-debug-exit,iobase=0xf4,iosize=0x04), which makes QEMU exit at once
 * with status (N << 1) | 1. If the port is not accessible (no device, no
 * privilege) it falls back to `poweroff -f`.
 * Build: gcc -static -O2 -o ace-exit ace-exit.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/reboot.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : 0;

    if (n < 0 || n > 127)
        n = 127;
    sync();
    if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0) {
        outb((unsigned char)n, DEBUG_EXIT_PORT);
        /* Only reached if nothing is decoding the port. */
    } else {
        perror("ace-exit: ioperm");
    }
    fprintf(stderr, "ace-exit: isa-debug-exit unavailable, powering off\n");
    execl("/bin/poweroff", "poweroff", "-f", (char *)NULL);
    reboot(RB_POWER_OFF);
    return 1;
}
