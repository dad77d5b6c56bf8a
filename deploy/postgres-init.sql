-- One database per service (compose only; in production each service may have its own server).
CREATE DATABASE icam_invitation;
CREATE DATABASE icam_case;
CREATE DATABASE icam_referral;
CREATE DATABASE icam_notification;
CREATE DATABASE icam_privacy;
CREATE DATABASE icam_gateway;
CREATE DATABASE icam_web;
