# pymodbus reference server for TacRS.Hil interop tests (Debian python3-pymodbus 3.x).
#   pymodbus_server.py tcp PORT | pymodbus_server.py rtu DEVICE
# zero_mode=True: protocol address 0 is the first value (pymodbus otherwise adds 1).
# holding[i] = i, input[i] = 0x2000 + i, discrete[i] = i even, coils all 0; 100 of each, unit 1.
# RTU: broadcast_enable=True, so unit 0 writes are executed and never answered (Serial Line §2.1).
import sys
from pymodbus.server import StartTcpServer, StartSerialServer
from pymodbus.datastore import ModbusSlaveContext, ModbusServerContext, ModbusSequentialDataBlock
from pymodbus.transaction import ModbusRtuFramer

hr = ModbusSequentialDataBlock(0, list(range(100)))
ir = ModbusSequentialDataBlock(0, [0x2000 + i for i in range(100)])
co = ModbusSequentialDataBlock(0, [False] * 100)
di = ModbusSequentialDataBlock(0, [i % 2 == 0 for i in range(100)])
ctx = ModbusServerContext(slaves={1: ModbusSlaveContext(di=di, co=co, hr=hr, ir=ir, zero_mode=True)}, single=False)
print("READY", flush=True)
if sys.argv[1] == "tcp":
    StartTcpServer(context=ctx, address=("127.0.0.1", int(sys.argv[2])))
else:
    StartSerialServer(context=ctx, framer=ModbusRtuFramer, port=sys.argv[2], baudrate=115200, bytesize=8, parity="N", stopbits=1, timeout=0.005, broadcast_enable=True)
