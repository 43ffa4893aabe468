namespace TacRS.Hil.Protocols.Pigpio;

/// <summary>
/// pigpio socket command numbers, exactly as pigpio.h (<c>PI_CMD_*</c>) and pigpio.py (<c>_PI_CMD_*</c>,
/// pigpio 1.78 / daemon V79) define them. Only the GPIO, notification and I2C families are served
/// here; the rest are listed so a log names what a client asked for.
/// </summary>
public enum PigpioCommandCode : uint
{
    /// <summary>Set GPIO mode: p1 gpio, p2 mode (0 input, 1 output, 2..7 ALT5, ALT4, ALT0..ALT3).</summary>
    Modes = 0,

    /// <summary>Get GPIO mode: p1 gpio.</summary>
    Modeg = 1,

    /// <summary>Set pull-up/down: p1 gpio, p2 0 off, 1 down, 2 up.</summary>
    Pud = 2,

    /// <summary>Read level: p1 gpio.</summary>
    Read = 3,

    /// <summary>Write level: p1 gpio, p2 level.</summary>
    Write = 4,
    Pwm = 5,
    Prs = 6,
    Pfs = 7,
    Servo = 8,
    Wdog = 9,

    /// <summary>Read bank 1 (GPIO 0-31) levels as a bit mask (unsigned result).</summary>
    Br1 = 10,

    /// <summary>Read bank 2 (GPIO 32-53) levels as a bit mask (unsigned result).</summary>
    Br2 = 11,

    /// <summary>Clear bank 1 GPIO: p1 bits.</summary>
    Bc1 = 12,
    Bc2 = 13,

    /// <summary>Set bank 1 GPIO: p1 bits.</summary>
    Bs1 = 14,
    Bs2 = 15,

    /// <summary>Microseconds since boot, wrapping at 2^32 (unsigned result).</summary>
    Tick = 16,

    /// <summary>Hardware revision (unsigned result).</summary>
    Hwver = 17,

    /// <summary>Open a notification pipe (/dev/pigpioN).</summary>
    No = 18,

    /// <summary>Notify begin: p1 handle, p2 bits of bank 1 to watch.</summary>
    Nb = 19,

    /// <summary>Notify pause: p1 handle.</summary>
    Np = 20,

    /// <summary>Notify close: p1 handle.</summary>
    Nc = 21,
    Prg = 22,
    Pfg = 23,
    Prrg = 24,
    Help = 25,

    /// <summary>pigpio version (unsigned result).</summary>
    Pigpv = 26,
    Wvclr = 27,
    Wvag = 28,
    Wvas = 29,
    Wvgo = 30,
    Wvgor = 31,
    Wvbsy = 32,
    Wvhlt = 33,
    Wvsm = 34,
    Wvsp = 35,
    Wvsc = 36,
    Trig = 37,
    Proc = 38,
    Procd = 39,
    Procr = 40,
    Procs = 41,
    Slro = 42,
    Slr = 43,
    Slrc = 44,
    Procp = 45,
    Micro = 46,
    Milli = 47,
    Parse = 48,
    Wvcre = 49,
    Wvdel = 50,
    Wvtx = 51,
    Wvtxr = 52,
    Wvnew = 53,

    /// <summary>I2C open: p1 bus, p2 address, extension u32 flags. Result: handle.</summary>
    I2co = 54,

    /// <summary>I2C close: p1 handle.</summary>
    I2cc = 55,

    /// <summary>I2C read device: p1 handle, p2 count. Result: count, followed by the bytes.</summary>
    I2crd = 56,

    /// <summary>I2C write device: p1 handle, extension the bytes.</summary>
    I2cwd = 57,

    /// <summary>SMBus write quick: p1 handle, p2 bit.</summary>
    I2cwq = 58,

    /// <summary>SMBus receive byte: p1 handle.</summary>
    I2crs = 59,

    /// <summary>SMBus send byte: p1 handle, p2 byte.</summary>
    I2cws = 60,

    /// <summary>SMBus read byte data: p1 handle, p2 register.</summary>
    I2crb = 61,

    /// <summary>SMBus write byte data: p1 handle, p2 register, extension u32 byte.</summary>
    I2cwb = 62,

    /// <summary>SMBus read word data (low byte first on the wire): p1 handle, p2 register.</summary>
    I2crw = 63,

    /// <summary>SMBus write word data: p1 handle, p2 register, extension u32 word.</summary>
    I2cww = 64,

    /// <summary>SMBus read block data: p1 handle, p2 register. Result: count, followed by the bytes.</summary>
    I2crk = 65,

    /// <summary>SMBus write block data: p1 handle, p2 register, extension the bytes.</summary>
    I2cwk = 66,

    /// <summary>Read I2C block data: p1 handle, p2 register, extension u32 count. Result: count, followed by the bytes.</summary>
    I2cri = 67,

    /// <summary>Write I2C block data: p1 handle, p2 register, extension the bytes.</summary>
    I2cwi = 68,

    /// <summary>SMBus process call: p1 handle, p2 register, extension u32 word.</summary>
    I2cpc = 69,

    /// <summary>SMBus block process call: p1 handle, p2 register, extension the bytes.</summary>
    I2cpk = 70,
    Spio = 71,
    Spic = 72,
    Spir = 73,
    Spiw = 74,
    Spix = 75,
    Sero = 76,
    Serc = 77,
    Serrb = 78,
    Serwb = 79,
    Serr = 80,
    Serw = 81,
    Serda = 82,
    Gdc = 83,
    Gpw = 84,
    Hc = 85,
    Hp = 86,
    Cf1 = 87,
    Cf2 = 88,
    Bi2cc = 89,
    Bi2co = 90,
    Bi2cz = 91,

    /// <summary>I2C zip (a combined transaction): p1 handle, extension the operations (<see cref="PigpioZip"/>). Result: bytes read, followed by them.</summary>
    I2cz = 92,
    Wvcha = 93,
    Slri = 94,
    Cgi = 95,
    Csi = 96,

    /// <summary>Glitch filter: p1 user gpio (0-31), p2 steady time in µs (0-300000).</summary>
    Fg = 97,

    /// <summary>Noise filter: p1 user gpio, p2 steady µs, extension u32 active µs.</summary>
    Fn = 98,

    /// <summary>Notify open in-band: the socket itself becomes the notification stream. Result: handle.</summary>
    Noib = 99,
    Wvtxm = 100,
    Wvtat = 101,
    Pads = 102,
    Padg = 103,
    Fo = 104,
    Fc = 105,
    Fr = 106,
    Fw = 107,
    Fs = 108,
    Fl = 109,
    Shell = 110,
    Bspic = 111,
    Bspio = 112,
    Bspix = 113,
    Bscx = 114,
    Evm = 115,
    Evt = 116,
    Procu = 117,
    Wvcap = 118,
}

/// <summary>GPIO modes as MODES/MODEG carry them (pigpio.py: INPUT, OUTPUT, ALT0..ALT5).</summary>
public enum PigpioMode : uint
{
    Input = 0,
    Output = 1,
    Alt5 = 2,
    Alt4 = 3,
    Alt0 = 4,
    Alt1 = 5,
    Alt2 = 6,
    Alt3 = 7,
}

/// <summary>Pull resistor settings as PUD carries them (pigpio.py: PUD_OFF, PUD_DOWN, PUD_UP).</summary>
public enum PigpioPull : uint
{
    Off = 0,
    Down = 1,
    Up = 2,
}

/// <summary>What the daemon's socket thread knows about each command's shape (pigpio.c, pthSocketThreadHandler).</summary>
public static class PigpioCommands
{
    /// <summary>GPIO numbers the BCM283x has: 0-53.</summary>
    public const int MaxGpio = 53;

    /// <summary>The default daemon port (pigpiod -p, PIGPIO_PORT).</summary>
    public const int DefaultPort = 8888;

    /// <summary>
    /// True when a positive result is followed by that many data bytes: the daemon writes its
    /// buffer after the 16-byte response only for these commands.
    /// </summary>
    public static bool ReturnsData(PigpioCommandCode command) => command is
        PigpioCommandCode.Bi2cz or PigpioCommandCode.Cf2 or PigpioCommandCode.I2cpk or PigpioCommandCode.I2crd
        or PigpioCommandCode.I2cri or PigpioCommandCode.I2crk or PigpioCommandCode.I2cz or PigpioCommandCode.Procp
        or PigpioCommandCode.Serr or PigpioCommandCode.Slr or PigpioCommandCode.Spix or PigpioCommandCode.Spir;

    /// <summary>
    /// True when the result word is an unsigned value rather than a status (pigpio.py does not pass
    /// these through <c>_u2i</c>): a bank with GPIO 31 high, or a tick past 2^31, is not an error.
    /// </summary>
    public static bool ResultIsUnsigned(PigpioCommandCode command) => command is
        PigpioCommandCode.Br1 or PigpioCommandCode.Br2 or PigpioCommandCode.Tick or PigpioCommandCode.Hwver or PigpioCommandCode.Pigpv;
}
