/* Arm semihosting calls for M-profile: BKPT 0xAB with the operation in r0
 * and its argument in r1 (Arm "Semihosting for AArch32 and AArch64"). */
#include "semihost.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

static int sh_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s)
{
    sh_call(SYS_WRITE0, s);
}

void sh_exit(int status)
{
    /* On AArch32 SYS_EXIT takes the reason code itself, not a block. */
    sh_call(SYS_EXIT, (const void *)(status == 0
                                     ? ADP_STOPPED_APPLICATION_EXIT
                                     : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;) {
    }
}
