/* Minimal Arm semihosting (no newlib rdimon): write a string to the
 * debugger's / qemu's console and end the program with a status.  qemu
 * needs `-semihosting-config enable=on,target=native`. */
#ifndef TML_DEPLOY_SEMIHOST_H
#define TML_DEPLOY_SEMIHOST_H

/* SYS_WRITE0: a NUL-terminated string to the host console. */
void sh_write0(const char *s);

/* SYS_EXIT: status 0 is ADP_Stopped_ApplicationExit (qemu exits 0), any
 * other status a run-time error (qemu exits 1).  Does not return. */
void sh_exit(int status) __attribute__((noreturn));

#endif
