"""Our fast extractor reproduces dlib's own reference landmarks on real photos."""

import xml.etree.ElementTree as ET

import numpy as np

from landmarks import FaceTracker, TrackerSettings
from landmarks.extraction.frames import read_image
from landmarks.extraction.tracker import _iou


def reference_faces(xml_path):
    """(file, box (l, t, r, b), points (68, 2)) for every face in one of dlib's landmark XML files."""
    for image in ET.parse(xml_path).getroot().iter("image"):
        for box in image.iter("box"):
            left, top, width, height = (float(box.get(k)) for k in ("left", "top", "width", "height"))
            points = np.zeros((68, 2))
            for part in box.iter("part"):
                points[int(part.get("name"))] = float(part.get("x")), float(part.get("y"))
            yield image.get("file"), (left, top, left + width, top + height), points


def test_landmarks_agree_with_dlib_reference_points(faces_dir):
    tracker = FaceTracker(TrackerSettings(min_face=36))  # faces here are 37-109 px: search small ones too
    errors, reference_count = [], 0
    detections = {}
    for xml_name in ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"):
        for file_name, ref_box, ref_points in reference_faces(faces_dir / xml_name):
            reference_count += 1
            if file_name not in detections:
                gray = read_image(faces_dir / file_name)
                detections[file_name] = (gray, tracker.detect_faces(gray))
            gray, faces = detections[file_name]
            matches = [box for box, _ in faces if _iou(box, ref_box) > 0.5]
            if not matches:
                continue
            points = tracker.predict(gray, matches[0])
            eye_distance = np.linalg.norm(ref_points[36] - ref_points[45])
            errors.append(np.median(np.linalg.norm(points - ref_points, axis=1)) / eye_distance)
    assert reference_count == 43
    assert len(errors) >= 40, f"detector found only {len(errors)} of the 43 reference faces"
    assert np.median(errors) <= 0.02
    assert max(errors) <= 0.15


def test_photo_without_a_human_face_yields_none(faces_dir, tracker):
    gray = read_image(faces_dir / "dogs.jpg")
    tracker.reset()
    assert tracker.detect_faces(gray) == []
    assert tracker.process(gray) is None


def test_large_frontal_face_is_found_once(faces_dir, tracker):
    gray = read_image(faces_dir / "Tom_Cruise_avp_2014_4.jpg")
    tracker.reset()
    assert len(tracker.detect_faces(gray)) == 1
    result = tracker.process(gray)
    assert result is not None and result.detected
    # the points lie inside the frame and span a plausible face
    assert (result.points >= 0).all() and (result.points[:, 0] < gray.shape[1]).all()
    assert np.linalg.norm(result.points[36] - result.points[45]) > 100
