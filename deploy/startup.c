/* Cortex-M start-up for the emulated (and generic) boards: the vector
 * table, .data copy, .bss zeroing, FPU enable, a painted stack (so main
 * can report how much stack the inference used), then main() and a
 * semihosting exit with main's status.  Symbols come from link.ld. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

#define STACK_PAINT 0xA5A5A5A5u

/* Lowest address of the stack area ever written (see tml_stack_used). */
uint32_t tml_stack_used(void)
{
    const uint32_t *p = &_ebss;
    while (p < &_estack && *p == STACK_PAINT)
        p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
    /* Paint the free RAM between .bss and (a little below) this frame. */
    uint32_t here;
    __asm__ volatile("mov %0, sp" : "=r"(here));
    for (uint32_t *p = &_ebss; (uintptr_t)p < here - 64u; p++)
        *p = STACK_PAINT;
#if defined(__ARM_FP)
    /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    sh_exit(main());
}

static void Fault_Handler(void)
{
    sh_write0("tinyml: fault (hard fault or exception)\nFAIL\n");
    sh_exit(1);
}

typedef void (*vector)(void);

__attribute__((section(".isr_vector"), used))
static const vector vectors[16] = {
    (vector)(uintptr_t)&_estack, /* initial stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};
