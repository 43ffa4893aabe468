#!/usr/bin/python3
"""Drives our pigpio server with the real pigpio Python client (Debian python3-pigpio).

Usage: pigpio_client.py HOST PORT
Prints one JSON object per line: {"step": "armed"} when the callback on GPIO 17 is set and the test
may drive the line, then {"step": "done", ...results}. Every wait is bounded.
"""
import json
import sys
import threading

import pigpio


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    pi = pigpio.pi(host, port)
    if not pi.connected:
        say(step="error", error="not connected")
        return 2
    out = {}
    try:
        out["hwver"] = pi.get_hardware_revision()
        out["version"] = pi.get_pigpio_version()

        # Outputs: mode, write, read back, mode back.
        pi.set_mode(23, pigpio.OUTPUT)
        pi.write(23, 1)
        out["read23"] = pi.read(23)
        out["mode23"] = pi.get_mode(23)

        # Inputs: the test closed GPIO 17's switch to ground; GPIO 27 floats, so its pull decides.
        pi.set_mode(17, pigpio.INPUT)
        pi.set_pull_up_down(17, pigpio.PUD_UP)
        out["read17"] = pi.read(17)
        pi.set_mode(27, pigpio.INPUT)
        pi.set_pull_up_down(27, pigpio.PUD_UP)
        out["read27_up"] = pi.read(27)
        pi.set_pull_up_down(27, pigpio.PUD_DOWN)
        out["read27_down"] = pi.read(27)
        out["bank1"] = pi.read_bank_1()
        out["glitch_filter"] = pi.set_glitch_filter(17, 0)
        t0 = pi.get_current_tick()
        t1 = pi.get_current_tick()
        out["tick_delta"] = pigpio.tickDiff(t0, t1)

        try:
            pi.read(60)
            out["bad_gpio"] = "no error"
        except pigpio.error as e:
            out["bad_gpio"] = str(e)

        # I2C: INA219 at 1/0x40 (registers big-endian on the wire; SMBus words are little-endian).
        h = pi.i2c_open(1, 0x40)
        out["config_word"] = pi.i2c_read_word_data(h, 0x00)
        pi.i2c_write_device(h, bytes([0x05, 0x10, 0x00]))
        pi.i2c_write_device(h, bytes([0x05]))
        count, data = pi.i2c_read_device(h, 2)
        out["calibration"] = list(data[:count])
        count, data = pi.i2c_read_i2c_block_data(h, 0x02, 2)
        out["bus_block"] = list(data[:count])
        out["bus_word"] = pi.i2c_read_word_data(h, 0x02)
        pi.i2c_write_word_data(h, 0x05, 0x0020)  # SMBus word low byte first: calibration register 0x2000
        out["calibration_msb"] = pi.i2c_read_byte_data(h, 0x05)
        count, data = pi.i2c_zip(h, [7, 1, 0x02, 6, 2, 0])
        out["bus_zip"] = list(data[:count])
        pi.i2c_close(h)

        nobody = pi.i2c_open(1, 0x55)
        try:
            pi.i2c_read_byte(nobody)
            out["nack"] = "no error"
        except pigpio.error as e:
            out["nack"] = str(e)
        pi.i2c_close(nobody)

        # Notifications from our own writes.
        events = []
        three = threading.Event()

        def on_22(gpio, level, tick):
            events.append([gpio, level])
            if len(events) >= 3:
                three.set()

        pi.set_mode(22, pigpio.OUTPUT)
        pi.write(22, 0)
        cb22 = pi.callback(22, pigpio.EITHER_EDGE, on_22)
        pi.write(22, 1)
        pi.write(22, 0)
        pi.write(22, 1)
        out["own_edges_arrived"] = three.wait(5)
        out["own_edges"] = events
        cb22.cancel()

        # Notifications from the simulation: the test releases GPIO 17's switch when we say "armed".
        rose = threading.Event()
        seen17 = []

        def on_17(gpio, level, tick):
            seen17.append([gpio, level])
            rose.set()

        cb17 = pi.callback(17, pigpio.RISING_EDGE, on_17)
        say(step="armed")
        out["external_edge_arrived"] = rose.wait(5)
        out["external_edges"] = seen17
        cb17.cancel()
    except Exception as e:  # report, do not hang the test
        out["exception"] = repr(e)
    finally:
        pi.stop()
    say(step="done", **out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
