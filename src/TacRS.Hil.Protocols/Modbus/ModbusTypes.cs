namespace TacRS.Hil.Protocols.Modbus;

/// <summary>Function codes this stack speaks (Modbus Application Protocol V1.1b3, §6).</summary>
public enum ModbusFunction : byte
{
    ReadCoils = 1,
    ReadDiscreteInputs = 2,
    ReadHoldingRegisters = 3,
    ReadInputRegisters = 4,
    WriteSingleCoil = 5,
    WriteSingleRegister = 6,

    /// <summary>FC8 diagnostics; sub-function 0 (return query data) echoes the request (§6.8).</summary>
    Diagnostics = 8,
    WriteMultipleCoils = 15,
    WriteMultipleRegisters = 16,

    /// <summary>FC22: register = (register AND and-mask) OR (or-mask AND NOT and-mask) (§6.16).</summary>
    MaskWriteRegister = 22,
    ReadWriteMultipleRegisters = 23,
}

/// <summary>Exception codes (Modbus Application Protocol V1.1b3, §7).</summary>
public enum ModbusExceptionCode : byte
{
    IllegalFunction = 1,
    IllegalDataAddress = 2,
    IllegalDataValue = 3,
    ServerDeviceFailure = 4,
    Acknowledge = 5,
    ServerDeviceBusy = 6,
    MemoryParityError = 8,
    GatewayPathUnavailable = 0x0A,
    GatewayTargetFailedToRespond = 0x0B,
}

/// <summary>Which way a frame travels; request and response PDUs of one function differ in shape.</summary>
public enum ModbusSide
{
    Request,
    Response,
}

/// <summary>Outcome of decoding the front of a byte buffer.</summary>
public enum ModbusDecodeStatus
{
    /// <summary>A whole, valid frame is at the front of the buffer.</summary>
    Complete,

    /// <summary>The bytes so far may be the start of a frame; read more.</summary>
    Incomplete,

    /// <summary>The front of the buffer is not a frame (unknown function, bad length or protocol id).</summary>
    Malformed,

    /// <summary>An RTU frame of the right length whose CRC does not match.</summary>
    BadCrc,
}

public static class ModbusNames
{
    public static string Describe(this ModbusExceptionCode code) => code switch
    {
        ModbusExceptionCode.IllegalFunction => "illegal function (the device does not support this function code)",
        ModbusExceptionCode.IllegalDataAddress => "illegal data address (no such register or coil on the device)",
        ModbusExceptionCode.IllegalDataValue => "illegal data value (quantity or value not accepted)",
        ModbusExceptionCode.ServerDeviceFailure => "server device failure (unrecoverable error in the device)",
        ModbusExceptionCode.Acknowledge => "acknowledge (long operation accepted, poll later)",
        ModbusExceptionCode.ServerDeviceBusy => "server device busy (retry later)",
        ModbusExceptionCode.MemoryParityError => "memory parity error",
        ModbusExceptionCode.GatewayPathUnavailable => "gateway path unavailable",
        ModbusExceptionCode.GatewayTargetFailedToRespond => "gateway target device failed to respond",
        _ => "unknown exception code",
    };

    public static string Describe(this ModbusFunction function) => function switch
    {
        ModbusFunction.ReadCoils => "FC1 read coils",
        ModbusFunction.ReadDiscreteInputs => "FC2 read discrete inputs",
        ModbusFunction.ReadHoldingRegisters => "FC3 read holding registers",
        ModbusFunction.ReadInputRegisters => "FC4 read input registers",
        ModbusFunction.WriteSingleCoil => "FC5 write single coil",
        ModbusFunction.WriteSingleRegister => "FC6 write single register",
        ModbusFunction.Diagnostics => "FC8 diagnostics",
        ModbusFunction.WriteMultipleCoils => "FC15 write multiple coils",
        ModbusFunction.WriteMultipleRegisters => "FC16 write multiple registers",
        ModbusFunction.MaskWriteRegister => "FC22 mask write register",
        ModbusFunction.ReadWriteMultipleRegisters => "FC23 read/write multiple registers",
        _ => $"FC{(byte)function}",
    };

    public static bool IsKnown(ModbusFunction function) => function is
        ModbusFunction.ReadCoils or ModbusFunction.ReadDiscreteInputs or ModbusFunction.ReadHoldingRegisters
        or ModbusFunction.ReadInputRegisters or ModbusFunction.WriteSingleCoil or ModbusFunction.WriteSingleRegister
        or ModbusFunction.Diagnostics or ModbusFunction.WriteMultipleCoils or ModbusFunction.WriteMultipleRegisters
        or ModbusFunction.MaskWriteRegister or ModbusFunction.ReadWriteMultipleRegisters;
}

/// <summary>Quantity limits from the specification (each function's "Quantity of …" field).</summary>
public static class ModbusLimits
{
    /// <summary>Largest PDU: 256-byte RTU ADU minus address and CRC (§4.1).</summary>
    public const int MaxPduLength = 253;

    public const int MaxRtuAduLength = 256;

    public const int MaxTcpAduLength = 260;

    public const int MaxReadBits = 2000;

    public const int MaxReadRegisters = 125;

    public const int MaxWriteBits = 1968;

    public const int MaxWriteRegisters = 123;

    public const int MaxReadWriteReadRegisters = 125;

    public const int MaxReadWriteWriteRegisters = 121;

    /// <summary>FC8 sub-function 0: return query data (the response echoes the request).</summary>
    public const ushort ReturnQueryData = 0x0000;

    /// <summary>FC5 coil values: ON is 0xFF00, OFF is 0x0000; anything else is exception 3 (§6.5).</summary>
    public const ushort CoilOn = 0xFF00;

    public const ushort CoilOff = 0x0000;
}
