# pymodbus client for TacRS.Hil interop tests (Debian python3-pymodbus 3.x): FC22 and FC8 against our slave.
#   pymodbus_client.py tcp PORT | pymodbus_client.py rtu DEVICE
# Mask-writes holding 4 (AND 0x00F2, OR 0x0025), reads it back, sends FC8 return query data 0xA537.
# Prints "mask=AND,OR read=VALUE echo=DATA" (hex) or "error=..." for the first failure.
import sys
from pymodbus.client import ModbusTcpClient, ModbusSerialClient
from pymodbus.diag_message import ReturnQueryDataRequest

if sys.argv[1] == "tcp":
    client = ModbusTcpClient("127.0.0.1", port=int(sys.argv[2]), timeout=2)
else:
    client = ModbusSerialClient(method="rtu", port=sys.argv[2], baudrate=115200, bytesize=8, parity="N", stopbits=1, timeout=2)
client.connect()
mask = client.mask_write_register(address=4, and_mask=0x00F2, or_mask=0x0025, unit=1)
if mask.isError():
    print("error=mask %s" % mask, flush=True)
    sys.exit(1)
read = client.read_holding_registers(4, 1, unit=1)
if read.isError():
    print("error=read %s" % read, flush=True)
    sys.exit(1)
echo = client.execute(ReturnQueryDataRequest(message=0xA537, unit=1))
if echo.isError():
    print("error=echo %s" % echo, flush=True)
    sys.exit(1)
print("mask=%04x,%04x read=%04x echo=%04x" % (mask.and_mask, mask.or_mask, read.registers[0], echo.message[0]), flush=True)
client.close()
