package dev.wengert.tensor;

/** Distributions for {@link Backend#random}. */
public enum RandomKind { UNIFORM, NORMAL }
