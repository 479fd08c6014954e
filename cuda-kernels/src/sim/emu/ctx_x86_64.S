// Fiber context switch for the Wengert CUDA simulator (x86-64 System V).
//
//   void wsim_ctx_switch(void** save_sp, void* new_sp)
// pushes the callee-saved registers on the current stack, stores the stack pointer in *save_sp, loads
// new_sp and pops the registers saved there. No signal mask, no floating-point environment: the
// kernels never change MXCSR or the x87 control word.
//
//   void wsim_ctx_trampoline(void)
// first "return address" of a fresh fiber: calls r12(r13) on an aligned stack; that function never
// returns (it switches away for good).
        .text
        .globl  wsim_ctx_switch
        .hidden wsim_ctx_switch
        .type   wsim_ctx_switch, @function
        .p2align 4
wsim_ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   wsim_ctx_switch, .-wsim_ctx_switch

        .globl  wsim_ctx_trampoline
        .hidden wsim_ctx_trampoline
        .type   wsim_ctx_trampoline, @function
        .p2align 4
wsim_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %r13, %rdi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   wsim_ctx_trampoline, .-wsim_ctx_trampoline

        .section .note.GNU-stack,"",@progbits
