package dev.ublkctl.bpf.btf;

import java.util.List;

/** One BTF type. Type ids index {@link Btf#types()}; id 0 is {@link VoidType}. */
public sealed interface BtfType {
    BtfKind kind();

    /** The type's name, "" if anonymous. */
    String name();

    /** void (type id 0). */
    record VoidType() implements BtfType {
        public BtfKind kind() { return BtfKind.VOID; }
        public String name() { return "void"; }
    }

    /** An integer: {@code encoding} bits SIGNED 1, CHAR 2, BOOL 4; bit offset and width of the value. */
    record Int(String name, int size, int encoding, int bitOffset, int bits) implements BtfType {
        public static final int SIGNED = 1, CHAR = 2, BOOL = 4;
        public BtfKind kind() { return BtfKind.INT; }
        public boolean signed() { return (encoding & SIGNED) != 0; }
        public boolean isChar() { return (encoding & CHAR) != 0 || (size == 1 && name.contains("char")); }
        public boolean isBool() { return (encoding & BOOL) != 0; }
    }

    record Ptr(int target) implements BtfType {
        public BtfKind kind() { return BtfKind.PTR; }
        public String name() { return ""; }
    }

    record Array(int elementType, int indexType, int length) implements BtfType {
        public BtfKind kind() { return BtfKind.ARRAY; }
        public String name() { return ""; }
    }

    /** A struct or union member; bitfieldSize is 0 unless the member is a bitfield. */
    record Member(String name, int type, int bitOffset, int bitfieldSize) {}

    /** A struct ({@code union == false}) or union. */
    record Struct(String name, int size, boolean union, List<Member> members) implements BtfType {
        public BtfKind kind() { return union ? BtfKind.UNION : BtfKind.STRUCT; }
    }

    record EnumValue(String name, long value) {}

    /** ENUM (4 bytes or less) or ENUM64; values sign-extended when {@code signed}. */
    record EnumType(String name, int size, boolean signed, boolean is64, List<EnumValue> values) implements BtfType {
        public BtfKind kind() { return is64 ? BtfKind.ENUM64 : BtfKind.ENUM; }
    }

    record Fwd(String name, boolean union) implements BtfType {
        public BtfKind kind() { return BtfKind.FWD; }
    }

    record Typedef(String name, int target) implements BtfType {
        public BtfKind kind() { return BtfKind.TYPEDEF; }
    }

    /** VOLATILE, CONST or RESTRICT. */
    record Qualifier(BtfKind kind, int target) implements BtfType {
        public String name() { return ""; }
    }

    /** TYPE_TAG: a tag attached to the pointee type ({@code name} is the tag). */
    record TypeTag(String name, int target) implements BtfType {
        public BtfKind kind() { return BtfKind.TYPE_TAG; }
    }

    /** FUNC: linkage 0 static, 1 global, 2 extern. */
    record Func(String name, int proto, int linkage) implements BtfType {
        public BtfKind kind() { return BtfKind.FUNC; }
    }

    record Param(String name, int type) {}

    record FuncProto(int returnType, List<Param> params) implements BtfType {
        public BtfKind kind() { return BtfKind.FUNC_PROTO; }
        public String name() { return ""; }
    }

    /** VAR: linkage 0 static, 1 global, 2 extern. */
    record Var(String name, int type, int linkage) implements BtfType {
        public BtfKind kind() { return BtfKind.VAR; }
    }

    record VarSecInfo(int type, int offset, int size) {}

    record DataSec(String name, int size, List<VarSecInfo> vars) implements BtfType {
        public BtfKind kind() { return BtfKind.DATASEC; }
    }

    record FloatType(String name, int size) implements BtfType {
        public BtfKind kind() { return BtfKind.FLOAT; }
    }

    /** DECL_TAG on a type, or on member/parameter {@code componentIndex} (-1 for the type itself). */
    record DeclTag(String name, int target, int componentIndex) implements BtfType {
        public BtfKind kind() { return BtfKind.DECL_TAG; }
    }
}
