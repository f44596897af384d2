package dev.ublkctl.bpf.btf;

/** BTF type kinds with the kernel's BTF_KIND_* numbers. */
public enum BtfKind {
    VOID(0), INT(1), PTR(2), ARRAY(3), STRUCT(4), UNION(5), ENUM(6), FWD(7), TYPEDEF(8), VOLATILE(9),
    CONST(10), RESTRICT(11), FUNC(12), FUNC_PROTO(13), VAR(14), DATASEC(15), FLOAT(16), DECL_TAG(17),
    TYPE_TAG(18), ENUM64(19);

    public final int id;

    BtfKind(int id) { this.id = id; }

    private static final BtfKind[] BY_ID = values();

    public static BtfKind of(int id) {
        if (id < 0 || id >= BY_ID.length) throw new BtfException("unknown BTF kind " + id);
        return BY_ID[id];
    }
}
